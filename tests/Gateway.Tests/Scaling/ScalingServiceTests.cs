using Gateway.Configuration;
using Gateway.Hosting;

namespace Gateway.Tests.Scaling;

public sealed class ScalingServiceTests
{
    [Fact]
    public async Task StartAsync_LeaderElectionOnWithoutKubernetes_RefusesToStartNamingTheKey()
    {
        var options = new GatewayOptions
        {
            PublicUrl = "http://127.0.0.1:0",
            AdminUrl = "http://127.0.0.1:0",
            Kubernetes = { LeaderElection = { Enabled = true } },
            Services =
            [
                new ServiceOptions
                {
                    Name = "qwen-chat",
                    Models = ["qwen"],
                    Pools = [new PoolOptions { Name = "on-prem", Static = ["http://127.0.0.1:9"] }],
                },
            ],
        };
        await using var app = GatewayApplication.Build(options);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

        Assert.Equal(
            "Gateway:Kubernetes:LeaderElection:Enabled is true, but the host did not add Kubernetes (AddKubernetes), so every gateway replica would scale",
            e.Message);
    }
}

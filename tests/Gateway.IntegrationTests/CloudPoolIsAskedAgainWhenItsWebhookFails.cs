using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// A scale-out the webhook's receiver refused (500, no retries left) is not taken as granted: the gateway logs it and
/// asks again once the wish has held for the scale-out window, and the replicas it then gets join and serve.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class CloudPoolIsAskedAgainWhenItsWebhookFails
{
    private static readonly string[] SimulatorArgs = ["--max-num-seqs", "2", "--time-to-first-token", "100", "--inter-token-latency", "30"];

    [Fact]
    public async Task FirstScaleOutAnswered500_IsAskedAgain_ThenTheReplicaServes()
    {
        await using var cloud = await CandidateCloud.StartAsync(1, failFirst: 1, SimulatorArgs);
        await using var gateway = await GatewayFixture.StartAsync([SimulatorArgs], sims =>
        {
            var pool = GatewayFixture.Pool("cloud", 1, 2, [.. cloud.Candidates]);
            pool.Health = new HealthOptions { ProbeIntervalSeconds = 0.2 };
            pool.Scaling = new ScalingOptions
            {
                MaxReplicas = 1,
                ScaleOutWindowSeconds = 0.5,
                Webhook = new WebhookScalerOptions { Url = cloud.Url.ToString(), MaxRetries = 0 },
            };
            return new GatewayOptions { Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 2, sims[0]), pool)] };
        });

        // Three long requests: two fill on-prem, one waits, so demand 3 wants the cloud replica.
        using var client = gateway.CreatePublicClient();
        var requests = Enumerable.Range(0, 3).Select(async _ =>
        {
            using var request = ChatRequest.Post(maxTokens: 100);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }).ToArray();

        var served = await Eventually.WaitAsync(
            async () => (await gateway.StatusAsync()).Replicas.Values.Where(r => r.Pool == "cloud").Sum(r => r.Served),
            n => n > 0,
            TimeSpan.FromSeconds(15),
            "the cloud replica to serve");
        Assert.All(await Task.WhenAll(requests), s => Assert.Equal(System.Net.HttpStatusCode.OK, s));

        var calls = cloud.Calls;
        Assert.Equal(2, calls.Count);
        Assert.All(calls, c => Assert.Equal((1, 0, null), (c.Desired, c.Current, c.Replica)));

        // Asked again after the window, not at once and not only at the provisioning timeout.
        Assert.InRange(calls[1].At - calls[0].At, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(5));
        Assert.Equal(1, served);
    }
}

using System.Net;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;

namespace Gateway.IntegrationTests;

/// <summary>The round-robin baseline ignores tiers: requests alternate between the on-prem and the cloud replica.</summary>
public sealed class RoundRobinSplitsRequestsEvenly
{
    [Fact]
    public async Task TwentySequentialRequests_SplitTenAndTen()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            [[], []],
            sims =>
            {
                var service = GatewayFixture.QwenChat(
                    GatewayFixture.Pool("on-prem", 0, 4, sims[0]),
                    GatewayFixture.Pool("cloud", 1, 4, sims[1]));
                service.Balancing = BalancingMode.RoundRobin;
                return new() { Services = [service] };
            });
        using var http = gateway.CreatePublicClient();

        for (var i = 0; i < 20; i++)
        {
            using var response = await http.SendAsync(ChatRequest.Post(maxTokens: 2));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var status = await gateway.StatusAsync();
        Assert.Equal((10L, 10L), (status["on-prem-1"].Served, status["cloud-1"].Served));
        const string Succeeded = "vllm:request_success_total{model_name=\"qwen\",finished_reason=\"length\"}";
        Assert.Equal(10, await GatewayFixture.SampleAsync(gateway.Simulators[0], Succeeded));
        Assert.Equal(10, await GatewayFixture.SampleAsync(gateway.Simulators[1], Succeeded));
    }
}

using System.Diagnostics;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>A client that drops a streamed answer cancels the backend request: the replica's slot is free again within a second.</summary>
[Collection(TimingSensitive.Name)]
public sealed class DroppedStreamFreesTheBackendSlot
{
    [Fact]
    public async Task DroppingAStream_FreesTheReplicaAndTheGatewaySlotWithinASecond()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            [["--inter-token-latency", "100"]],
            sims => new() { Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, sims[0]))] });
        var simulator = gateway.Simulators[0];

        // 1,000 tokens at 100 ms would hold the slot for 100 s if the drop did not reach the replica.
        using var answer = await StreamedAnswer.OpenAsync(gateway.PublicAddress, maxTokens: 1000);
        Assert.Equal((1, 0), await GatewayFixture.LoadAsync(simulator));
        Assert.Equal(1, (await gateway.StatusAsync())["on-prem-1"].InFlight);

        var clock = Stopwatch.StartNew();
        answer.Dispose();
        await Eventually.WaitAsync(() => GatewayFixture.LoadAsync(simulator), l => l == (0, 0), TimeSpan.FromSeconds(5), "the replica's slot to be freed");
        await Eventually.WaitAsync(gateway.StatusAsync, s => s["on-prem-1"].InFlight == 0, TimeSpan.FromSeconds(5), "the gateway's slot to be freed");
        var freedAfter = clock.Elapsed;

        Assert.True(freedAfter < TimeSpan.FromSeconds(1), $"the slots were freed {freedAfter.TotalMilliseconds:F0} ms after the drop");
        Assert.Equal(1, await GatewayFixture.SampleAsync(simulator, "vllm:request_success_total{model_name=\"qwen\",finished_reason=\"abort\"}"));
    }
}

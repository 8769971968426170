using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>A client that gives up while its request waits in the gateway's queue leaves the queue, and no replica ever sees the request.</summary>
public sealed class ClientLeavingTheQueueNeverReachesABackend
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task DisconnectWhileQueued_LeavesTheQueue_AndNoBackendSeesIt()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            [["--inter-token-latency", "20"]],
            sims =>
            {
                var service = GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 1, sims[0]));
                service.Queue = new QueueOptions { MaxWaiting = 5, MaxWaitSeconds = 30 };
                return new() { Services = [service] };
            });
        var simulator = gateway.Simulators[0];
        using var http = gateway.CreatePublicClient();
        using var running = await StreamedAnswer.OpenAsync(gateway.PublicAddress, maxTokens: 1000);
        var promptTokens = await GatewayFixture.SampleAsync(simulator, "vllm:prompt_tokens_total{model_name=\"qwen\"}");
        Assert.True(promptTokens > 0);

        using var giveUp = new CancellationTokenSource();
        var queued = http.SendAsync(ChatRequest.Post(maxTokens: 2), giveUp.Token);
        await Eventually.WaitAsync(gateway.StatusAsync, s => s.QueueDepth == 1, Deadline, "the request to be queued");

        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        await Eventually.WaitAsync(gateway.StatusAsync, s => s.QueueDepth == 0, Deadline, "the request to leave the queue");

        // Free the only slot: a waiter left behind by mistake would take it now and reach the replica.
        running.Dispose();
        await Eventually.WaitAsync(gateway.StatusAsync, s => s["on-prem-1"].InFlight == 0, Deadline, "the slot to be given back");
        await Eventually.WaitAsync(() => GatewayFixture.LoadAsync(simulator), l => l == (0, 0), Deadline, "the replica to be idle");

        Assert.Equal(1L, (await gateway.StatusAsync())["on-prem-1"].Served);
        Assert.Equal(promptTokens, await GatewayFixture.SampleAsync(simulator, "vllm:prompt_tokens_total{model_name=\"qwen\"}"));
        Assert.Equal(1, await GatewayFixture.SampleAsync(simulator, "vllm:request_queue_time_seconds_count{model_name=\"qwen\"}"));
        Assert.Equal(1, await GatewayFixture.SampleAsync(simulator, "vllm:request_success_total{model_name=\"qwen\",finished_reason=\"abort\"}"));
    }
}

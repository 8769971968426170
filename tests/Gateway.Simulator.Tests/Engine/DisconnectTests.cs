using System.Net.Http.Json;
using Gateway.Testing;

namespace Gateway.Simulator.Tests.Engine;

/// <summary>A client that goes away aborts its sequence at once and frees its place, as vLLM does.</summary>
public sealed class DisconnectTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static object StreamBody => new
    {
        model = "qwen",
        messages = new[] { new { role = "user", content = "Tell me a long story" } },
        max_tokens = 1000,
        stream = true,
    };

    [Fact]
    public async Task DroppedStream_FreesItsSlotAndCountsAnAbort()
    {
        // 1,000 tokens at 200 ms would hold the slot for over three minutes if the abort were missed.
        await using var simulator = await SimulatorProcess.StartAsync("--max-num-seqs", "1", "--inter-token-latency", "200");
        using var metrics = simulator.CreateHttpClient();
        using var client = simulator.CreateHttpClient();

        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = JsonContent.Create(StreamBody) };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var reader = new StreamReader(stream);
        Assert.StartsWith("data: ", await reader.ReadLineAsync(), StringComparison.Ordinal);
        Assert.Equal((1, 0), await MetricsText.QueueAsync(metrics));

        // Dropping the response closes the connection mid-stream.
        reader.Dispose();
        response.Dispose();
        client.Dispose();

        await Eventually.WaitAsync(() => MetricsText.QueueAsync(metrics), q => q == (0, 0), Deadline, "the slot to be freed");
        var samples = await MetricsText.ScrapeAsync(metrics);
        Assert.Equal(1, samples["vllm:request_success_total{model_name=\"qwen\",finished_reason=\"abort\"}"]);
        Assert.Equal(0, samples["vllm:kv_cache_usage_perc{model_name=\"qwen\"}"]);
    }

    [Fact]
    public async Task DroppedWaitingRequest_LeavesTheQueue()
    {
        await using var simulator = await SimulatorProcess.StartAsync("--max-num-seqs", "1", "--inter-token-latency", "200");
        using var metrics = simulator.CreateHttpClient();
        using var first = simulator.CreateHttpClient();
        using var second = simulator.CreateHttpClient();
        using var cancelFirst = new CancellationTokenSource();
        using var cancelSecond = new CancellationTokenSource();

        var running = first.PostAsJsonAsync("v1/chat/completions", StreamBody, cancelFirst.Token);
        await Eventually.WaitAsync(() => MetricsText.QueueAsync(metrics), q => q == (1, 0), Deadline, "1 running");
        var waiting = second.PostAsJsonAsync("v1/chat/completions", StreamBody, cancelSecond.Token);
        await Eventually.WaitAsync(() => MetricsText.QueueAsync(metrics), q => q == (1, 1), Deadline, "1 waiting");

        await cancelSecond.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await Eventually.WaitAsync(() => MetricsText.QueueAsync(metrics), q => q == (1, 0), Deadline, "the waiter to leave");

        await cancelFirst.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        await Eventually.WaitAsync(() => MetricsText.QueueAsync(metrics), q => q == (0, 0), Deadline, "the runner to leave");
    }
}

using System.Net;
using System.Net.Http.Json;
using Gateway.Testing;

namespace Gateway.Simulator.Tests.Engine;

/// <summary>Beyond <c>--max-num-seqs</c>, requests wait in FIFO order and show in vLLM's gauges; a full queue answers 503.</summary>
public sealed class BatchUnderLoadTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private static object ChatBody(int maxTokens) => new
    {
        model = "qwen",
        messages = new[] { new { role = "user", content = "Hello" } },
        max_tokens = maxTokens,
    };

    [Fact]
    public async Task FiveRequests_MaxNumSeqsTwo_TwoRunThreeWaitThenZero()
    {
        await using var simulator = await SimulatorProcess.StartAsync("--max-num-seqs", "2", "--inter-token-latency", "100");
        using var http = simulator.CreateHttpClient();

        // Ten tokens at 100 ms each: every request holds its sequence for about a second.
        var requests = Enumerable.Range(0, 5).Select(_ => http.PostAsJsonAsync("v1/chat/completions", ChatBody(10))).ToArray();

        var loaded = await Eventually.WaitAsync(() => MetricsText.QueueAsync(http), q => q == (2, 3), Deadline, "2 running and 3 waiting");
        Assert.Equal((2, 3), loaded);

        var responses = await Task.WhenAll(requests);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal((0, 0), await MetricsText.QueueAsync(http));

        var samples = await MetricsText.ScrapeAsync(http);
        Assert.Equal(5, samples["vllm:request_success_total{model_name=\"qwen\",finished_reason=\"length\"}"]);
        Assert.Equal(50, samples["vllm:generation_tokens_total{model_name=\"qwen\"}"]);
        Assert.Equal(5, samples["vllm:request_queue_time_seconds_count{model_name=\"qwen\"}"]);
        Assert.Equal(0, samples["vllm:kv_cache_usage_perc{model_name=\"qwen\"}"]);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task WaitingQueueFull_Answers503WithRetryAfter()
    {
        await using var simulator = await SimulatorProcess.StartAsync(
            "--max-num-seqs", "1", "--max-waiting-queue-length", "1", "--inter-token-latency", "100");
        using var http = simulator.CreateHttpClient();
        using var cancel = new CancellationTokenSource();

        var running = http.PostAsJsonAsync("v1/chat/completions", ChatBody(50), cancel.Token);
        await Eventually.WaitAsync(() => MetricsText.QueueAsync(http), q => q == (1, 0), Deadline, "1 running");
        var waiting = http.PostAsJsonAsync("v1/chat/completions", ChatBody(50), cancel.Token);
        await Eventually.WaitAsync(() => MetricsText.QueueAsync(http), q => q == (1, 1), Deadline, "1 waiting");

        using var rejected = await http.PostAsJsonAsync("v1/chat/completions", ChatBody(1));
        var body = await rejected.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
        Assert.Equal("1", rejected.Headers.GetValues("Retry-After").Single());
        Assert.Contains("\"The waiting queue is full (1 requests).\"", body, StringComparison.Ordinal);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.WhenAll(running, waiting));
    }

    [Fact]
    public async Task KvCacheUsage_FollowsTokensOfRunningSequences()
    {
        // 4 blocks of 16 tokens: one request of 8 prompt tokens holds one block at first, 2 after 9 more tokens.
        await using var simulator = await SimulatorProcess.StartAsync(
            "--kv-cache-size", "4", "--block-size", "16", "--time-to-first-token", "100", "--inter-token-latency", "100");
        using var http = simulator.CreateHttpClient();

        var request = http.PostAsJsonAsync("v1/chat/completions", ChatBody(30));
        var usage = await Eventually.WaitAsync(
            async () => (await MetricsText.ScrapeAsync(http))["vllm:kv_cache_usage_perc{model_name=\"qwen\"}"], u => u > 0, Deadline, "KV use");
        Assert.Equal(0.25, usage);
        await Eventually.WaitAsync(
            async () => (await MetricsText.ScrapeAsync(http))["vllm:gpu_cache_usage_perc{model_name=\"qwen\"}"], u => u == 0.5, Deadline, "KV use 0.5");

        using var response = await request;
        Assert.Equal(0, (await MetricsText.ScrapeAsync(http))["vllm:kv_cache_usage_perc{model_name=\"qwen\"}"]);
    }
}

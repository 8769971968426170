using System.Diagnostics;
using System.Net;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// When every replica is busy a request waits in the service's queue; a full queue answers 429 and a wait
/// that runs out answers 503, both with Retry-After and in OpenAI's error shape. Nothing is dropped silently.
/// </summary>
public sealed class BusyServiceAnswersWithRetryAfter
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static Task<GatewayFixture> StartAsync(double maxWaitSeconds) =>
        GatewayFixture.StartAsync(
            [["--inter-token-latency", "20"]],
            sims =>
            {
                // One slot and one place in the queue: the first request runs, the second waits.
                var service = GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 1, sims[0]));
                service.Queue = new QueueOptions { MaxWaiting = 1, MaxWaitSeconds = maxWaitSeconds, RetryAfterSeconds = 2 };
                return new() { Services = [service] };
            });

    [Fact]
    public async Task QueueFull_Answers429WithRetryAfter_AndTheWaiterStillGetsTheNextSlot()
    {
        await using var gateway = await StartAsync(maxWaitSeconds: 30);
        using var http = gateway.CreatePublicClient();
        using var running = await StreamedAnswer.OpenAsync(gateway.PublicAddress, maxTokens: 1000);
        var waiting = http.SendAsync(ChatRequest.Post(maxTokens: 2));
        await Eventually.WaitAsync(gateway.StatusAsync, s => s.QueueDepth == 1, Deadline, "one request queued");

        using var rejected = await http.SendAsync(ChatRequest.Post(maxTokens: 2));

        var message = await OpenAIErrorAssert.IsAsync(rejected, HttpStatusCode.TooManyRequests, "rate_limit_error", "queue_full");
        Assert.Equal("2", Assert.Single(rejected.Headers.GetValues("Retry-After")));
        Assert.Contains("qwen-chat", message, StringComparison.Ordinal);
        Assert.Equal(1, (await gateway.StatusAsync()).QueueDepth);

        // The running request leaves; the queued one takes its slot.
        running.Dispose();
        using var served = await waiting;
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(2L, (await gateway.StatusAsync())["on-prem-1"].Served);
    }

    [Fact]
    public async Task WaitLongerThanAllowed_Answers503WithRetryAfter()
    {
        await using var gateway = await StartAsync(maxWaitSeconds: 0.5);
        using var http = gateway.CreatePublicClient();
        using var running = await StreamedAnswer.OpenAsync(gateway.PublicAddress, maxTokens: 1000);

        var clock = Stopwatch.StartNew();
        using var timedOut = await http.SendAsync(ChatRequest.Post(maxTokens: 2));
        var waited = clock.Elapsed;

        var message = await OpenAIErrorAssert.IsAsync(timedOut, HttpStatusCode.ServiceUnavailable, "server_error", "queue_timeout");
        Assert.Equal("2", Assert.Single(timedOut.Headers.GetValues("Retry-After")));
        Assert.Contains("qwen-chat", message, StringComparison.Ordinal);
        Assert.InRange(waited, TimeSpan.FromSeconds(0.45), TimeSpan.FromSeconds(5));

        var status = await gateway.StatusAsync();
        Assert.Equal(0, status.QueueDepth);
        Assert.Equal((1L, 1), (status["on-prem-1"].Served, status["on-prem-1"].InFlight));
    }
}

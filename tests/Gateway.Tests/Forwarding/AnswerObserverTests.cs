using System.Text;
using Gateway.Forwarding;
using Gateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Forwarding;

public sealed class AnswerObserverTests
{
    [Fact]
    public async Task WriteAsync_StreamedEventWithoutBoundary_ReachesTheClientBeforeTheAnswerEnds()
    {
        var client = new MemoryStream();
        var context = new DefaultHttpContext();
        context.Response.Body = client;
        context.Response.ContentType = "text/event-stream";
        var time = new FakeTimeProvider();
        await using var observer = new AnswerObserver(context.Response, time, time.GetTimestamp(), dropUsageEvents: true, maxAnswerBytes: long.MaxValue);
        var chunk = Encoding.UTF8.GetBytes(new string('x', 16 * 1024));
        var reachedClient = new List<long>();

        for (var i = 0; i < 64; i++)
        {
            await observer.WriteAsync(chunk);
            reachedClient.Add(client.Length);
        }

        await observer.CompleteAsync(CancellationToken.None);

        // Held while within the 64 KiB look-ahead (four chunks), then passed on chunk by chunk.
        Assert.Equal([0, 0, 0, 0, 81_920, 98_304], reachedClient[..6]);
        Assert.Equal(1024 * 1024 - (16 * 1024), reachedClient[^2]);
        Assert.Equal(1024 * 1024, client.Length);
    }

    [Fact]
    public async Task CompleteAsync_PlainAnswer_ReadsItsUsage_AndPassesEveryByteAtOnce()
    {
        var client = new MemoryStream();
        var context = new DefaultHttpContext();
        context.Response.Body = client;
        context.Response.ContentType = "application/json";
        var time = new FakeTimeProvider();
        await using var observer = new AnswerObserver(context.Response, time, time.GetTimestamp(), dropUsageEvents: false, maxAnswerBytes: long.MaxValue);
        var answer = Encoding.UTF8.GetBytes("{\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":3}}");

        await observer.WriteAsync(answer.AsMemory(0, 10));
        var afterFirst = client.Length;
        await observer.WriteAsync(answer.AsMemory(10));
        await observer.CompleteAsync(CancellationToken.None);

        Assert.Equal(10, afterFirst);
        Assert.Equal(answer, client.ToArray());
        Assert.Equal(8, observer.PromptTokens);
        Assert.Equal(3, observer.CompletionTokens);
    }

    [Fact]
    public async Task WriteAsync_PastMaxAnswerBytes_StopsTheCopy_MarksTheAttempt_ThenPassesTheGatewaysOwnBytes()
    {
        var client = new MemoryStream();
        var context = new DefaultHttpContext();
        context.Response.Body = client;
        context.Response.ContentType = "text/event-stream";
        var service = TestTopology.OnePool(capacity: 1);
        var attempt = new ForwardingAttempt(service.Queue, TestTopology.Add(service.OnPrem(), "http://127.0.0.1:8000"), default, Tenant.Anonymous);
        context.Features.Set(attempt);
        var time = new FakeTimeProvider();
        await using var observer = new AnswerObserver(context.Response, time, time.GetTimestamp(), dropUsageEvents: false, maxAnswerBytes: 100);
        var evt = Encoding.UTF8.GetBytes("data: {\"choices\":[{\"delta\":{\"content\":\"hello\"}}]}\n\n");

        await observer.WriteAsync(evt);
        var withinLimit = client.Length;
        await Assert.ThrowsAsync<AnswerTooLargeException>(() => observer.WriteAsync(evt).AsTask());
        var afterLimit = client.Length;
        await observer.WriteAsync("data: [DONE]\n\n"u8.ToArray());
        await observer.CompleteAsync(CancellationToken.None);

        Assert.Equal(evt.Length, withinLimit);
        Assert.Equal(evt.Length, afterLimit);
        Assert.True(attempt.AnswerTooLarge);
        Assert.EndsWith("data: [DONE]\n\n", Encoding.UTF8.GetString(client.ToArray()), StringComparison.Ordinal);
    }
}

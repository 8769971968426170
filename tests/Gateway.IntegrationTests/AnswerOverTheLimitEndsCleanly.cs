using System.Net;
using System.Text;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gateway.IntegrationTests;

/// <summary>
/// A replica whose answer never ends, or is larger than <c>Forwarding:MaxAnswerBytes</c> (256 KiB here): a stream ends
/// with the error event <c>answer_too_large</c> and <c>[DONE]</c> after at most the limit of the replica's bytes; a plain
/// answer declared too large is answered 502 before any byte of it; one of unknown length is cut off, so the client
/// cannot take it for whole. Each time the gateway stops reading the replica, and the slot comes back.
/// </summary>
public sealed class AnswerOverTheLimitEndsCleanly : IAsyncLifetime
{
    private const long Limit = 256 * 1024;
    private static readonly byte[] Event = Encoding.UTF8.GetBytes(
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + new string('x', 900) + "\"}}]}\n\n");

    private readonly TaskCompletionSource _replicaCut = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication _replica = null!;
    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync()
    {
        (_replica, var address) = await LoopbackReplica.StartAsync(AnswerAsync);
        _gateway = await GatewayFixture.StartAsync([], _ => new GatewayOptions
        {
            Forwarding = new ForwardingOptions { MaxAnswerBytes = Limit },
            Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 1, address))],
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _replica.DisposeAsync();
    }

    [Fact]
    public async Task EndlessStream_EndsWithAnswerTooLargeEventAndDone_AfterAtMostTheLimit()
    {
        using var http = _gateway.CreatePublicClient();
        using var response = await http.SendAsync(Request("stream"), HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsByteArrayAsync();
        var text = Encoding.UTF8.GetString(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var errorAt = text.LastIndexOf("data: {\"error\"", StringComparison.Ordinal);
        Assert.True(errorAt > 0, "no error event at the end of the stream");
        Assert.True(errorAt - 1 <= Limit, $"{errorAt - 1} bytes of the replica's answer passed before the error event");
        Assert.Contains("\"code\":\"answer_too_large\"", text[errorAt..], StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", text, StringComparison.Ordinal);

        // Every event before it came whole (the error event starts with a line end of its own).
        Assert.Equal(0, (errorAt - 1) % Event.Length);
        await AssertReplicaCutAndSlotBackAsync();
    }

    [Fact]
    public async Task PlainAnswerDeclaredOverTheLimit_Answered502AnswerTooLarge()
    {
        using var http = _gateway.CreatePublicClient();
        using var response = await http.SendAsync(Request("declared"));

        await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.BadGateway, "server_error", "answer_too_large");
        await AssertSlotBackAsync();
    }

    [Fact]
    public async Task PlainAnswerOfUnknownLengthOverTheLimit_IsCutOff()
    {
        using var http = _gateway.CreatePublicClient();
        using var response = await http.SendAsync(Request("chunked"), HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => response.Content.ReadAsByteArrayAsync());
        await AssertReplicaCutAndSlotBackAsync();
    }

    private static HttpRequestMessage Request(string kind) => new(HttpMethod.Post, "v1/chat/completions")
    {
        Content = new StringContent(
            $$"""{"model":"qwen","messages":[{"role":"user","content":"{{kind}}"}],"stream":{{(kind == "stream" ? "true" : "false")}}}""",
            Encoding.UTF8,
            "application/json"),
    };

    /// <summary>Streams events, or a JSON answer of unknown length, until the gateway hangs up; or answers 2 MiB of JSON with its length.</summary>
    private async Task AnswerAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var request = await reader.ReadToEndAsync(context.RequestAborted);
        try
        {
            if (request.Contains("\"stream\"", StringComparison.Ordinal) && request.Contains("\"content\":\"stream\"", StringComparison.Ordinal))
            {
                context.Response.ContentType = "text/event-stream";
                while (true)
                {
                    await context.Response.Body.WriteAsync(Event, context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                }
            }

            context.Response.ContentType = "application/json";
            var padding = Encoding.UTF8.GetBytes(new string(' ', 16 * 1024));
            if (request.Contains("declared", StringComparison.Ordinal))
            {
                var answer = Encoding.UTF8.GetBytes("{\"id\":\"c\",\"object\":\"chat.completion\",\"choices\":[]" + new string(' ', 2 * 1024 * 1024) + "}");
                context.Response.ContentLength = answer.Length;
                await context.Response.Body.WriteAsync(answer, context.RequestAborted);
                return;
            }

            // A JSON answer that never ends.
            await context.Response.Body.WriteAsync("{\"id\":\"c\",\"object\":\"chat.completion\",\"choices\":[]"u8.ToArray(), context.RequestAborted);
            while (true)
            {
                await context.Response.Body.WriteAsync(padding, context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            _replicaCut.TrySetResult();
        }
    }

    private async Task AssertReplicaCutAndSlotBackAsync()
    {
        await _replicaCut.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await AssertSlotBackAsync();
    }

    private async Task AssertSlotBackAsync() => await Eventually.WaitAsync(
        async () => (await _gateway.StatusAsync()).Replicas.Values.Single().InFlight,
        inFlight => inFlight == 0,
        TimeSpan.FromSeconds(10),
        "the replica's slot to come back");
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gateway.IntegrationTests.Support;

/// <summary>
/// A replica that remembers what reached it: real Kestrel on <c>127.0.0.1:0</c> that answers every chat completion
/// like OpenAI (a JSON body with choices and usage) and records the request headers it received, in order.
/// Its <c>/health</c> and vLLM <c>/metrics</c> say it is idle.
/// </summary>
internal sealed class RecordingReplica : IAsyncDisposable
{
    private WebApplication _app = null!;
    private readonly List<Dictionary<string, string>> _requests = [];

    /// <summary>The replica's address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The headers of each chat completion received so far (several values of one header joined by ", ").</summary>
    public IReadOnlyList<Dictionary<string, string>> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<RecordingReplica> StartAsync()
    {
        var replica = new RecordingReplica();
        (replica._app, replica.Address) = await LoopbackReplica.StartAsync(replica.AnswerAsync);
        return replica;
    }

    private async Task AnswerAsync(HttpContext context)
    {
        await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in context.Request.Headers)
        {
            headers[header.Key] = string.Join(", ", header.Value.ToArray());
        }

        lock (_requests)
        {
            _requests.Add(headers);
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(
            """{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"qwen","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}""");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.IntegrationTests.Support;

/// <summary>
/// A replica that remembers what reached it: real Kestrel on <c>127.0.0.1:0</c> that answers every chat completion
/// like OpenAI (a JSON body with choices and usage) and records the request headers it received, in order.
/// Its <c>/health</c> and vLLM <c>/metrics</c> say it is idle.
/// </summary>
internal sealed class RecordingReplica : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<Dictionary<string, string>> _requests = [];

    private RecordingReplica(WebApplication app) => _app = app;

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
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var replica = new RecordingReplica(app);
        app.MapGet("/health", () => Results.Ok());
        app.MapGet("/metrics", () => Results.Text(
            "vllm:num_requests_running{model_name=\"qwen\"} 0\nvllm:num_requests_waiting{model_name=\"qwen\"} 0\nvllm:kv_cache_usage_perc{model_name=\"qwen\"} 0\n",
            "text/plain; version=0.0.4"));
        app.MapPost("/v1/chat/completions", async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var header in context.Request.Headers)
            {
                headers[header.Key] = string.Join(", ", header.Value.ToArray());
            }

            lock (replica._requests)
            {
                replica._requests.Add(headers);
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(
                """{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"qwen","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}""");
        });
        await app.StartAsync();
        replica.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return replica;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

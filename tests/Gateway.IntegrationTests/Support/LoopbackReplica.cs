using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.IntegrationTests.Support;

/// <summary>
/// What every hand-made replica of a test shares: real Kestrel on <c>127.0.0.1:0</c> whose <c>/health</c> answers 200
/// and whose vLLM <c>/metrics</c> say it is idle, answering chat completions with the test's own handler.
/// </summary>
internal static class LoopbackReplica
{
    /// <summary>Starts a replica whose chat completions <paramref name="chatCompletions"/> answers; returns it and its address.</summary>
    public static async Task<(WebApplication App, Uri Address)> StartAsync(RequestDelegate chatCompletions)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/health", () => Results.Ok());
        app.MapGet("/metrics", () => Results.Text(
            "vllm:num_requests_running{model_name=\"qwen\"} 0\nvllm:num_requests_waiting{model_name=\"qwen\"} 0\nvllm:kv_cache_usage_perc{model_name=\"qwen\"} 0\n",
            "text/plain; version=0.0.4"));
        app.MapPost("/v1/chat/completions", chatCompletions);
        await app.StartAsync();
        return (app, new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()));
    }
}

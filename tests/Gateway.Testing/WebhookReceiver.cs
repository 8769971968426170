using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Testing;

/// <summary>
/// A scaling webhook's receiver: real Kestrel on <c>127.0.0.1:0</c>. Every POST is recorded (its JSON body and when it
/// came); the answer function given to <see cref="StartAsync"/> decides each answer from the call's number (1 first) and its body.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<WebhookCall> _calls = [];

    private WebhookReceiver(WebApplication app) => _app = app;

    /// <summary>Where the gateway POSTs, e.g. <c>http://127.0.0.1:41234/scale?token=secret</c>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>The POSTs so far, in order.</summary>
    public IReadOnlyList<WebhookCall> Calls
    {
        get
        {
            lock (_calls)
            {
                return [.. _calls];
            }
        }
    }

    public static async Task<WebhookReceiver> StartAsync(Func<int, JsonElement, CancellationToken, Task<int>> answer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/scale", async context =>
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var root = body.RootElement.Clone();
            int number;
            lock (receiver._calls)
            {
                receiver._calls.Add(new WebhookCall(DateTime.UtcNow, root));
                number = receiver._calls.Count;
            }

            context.Response.StatusCode = await answer(number, root, context.RequestAborted);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver.Url = new Uri($"{address}/scale?token=secret-token");
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One POST a receiver got: when, and its JSON body.</summary>
public sealed record WebhookCall(DateTime At, JsonElement Body)
{
    public string Service => Body.GetProperty("service").GetString()!;

    public int Desired => Body.GetProperty("desiredReplicas").GetInt32();

    public int Current => Body.GetProperty("currentReplicas").GetInt32();

    public string? Replica => Body.TryGetProperty("replica", out var replica) ? replica.GetString() : null;

    public override string ToString() => $"{At:HH:mm:ss.fff} {Body.GetRawText()}";
}

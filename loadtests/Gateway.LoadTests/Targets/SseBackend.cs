using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.LoadTests.Targets;

/// <summary>
/// An OpenAI-style streaming backend inside the drill's own process (Kestrel on <c>127.0.0.1:0</c>) that stamps every
/// chunk with the <see cref="Stopwatch"/> timestamp of its sending (<c>"sent"</c>), so a client in the same process
/// reads, on the same clock, how long each chunk took to reach it: straight, or through the gateway. A request's
/// <c>max_tokens</c> is its number of content chunks, the <c>X-Chunk-Interval-Ms</c> header the pause between them;
/// usage is sent when <c>stream_options.include_usage</c> asks for it, as vLLM does.
/// </summary>
internal sealed class SseBackend : IAsyncDisposable
{
    /// <summary>The header that sets the pause between chunks, in milliseconds.</summary>
    public const string IntervalHeader = "X-Chunk-Interval-Ms";

    private static readonly byte[] ChunkStart = Encoding.UTF8.GetBytes(
        """data: {"id":"chatcmpl-drill","object":"chat.completion.chunk","created":0,"model":"sse","choices":[{"index":0,"delta":{"content":"tok "},"finish_reason":""");

    private static readonly byte[] Running = Encoding.UTF8.GetBytes("null");
    private static readonly byte[] Length = Encoding.UTF8.GetBytes("\"length\"");
    private static readonly byte[] Sent = Encoding.UTF8.GetBytes("""}],"sent":""");
    private static readonly byte[] ChunkEnd = Encoding.UTF8.GetBytes("}\n\n");
    private static readonly byte[] Done = Encoding.UTF8.GetBytes("data: [DONE]\n\n");

    private readonly WebApplication _app;
    private int _open;
    private int _peakOpen;

    private SseBackend(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The most streams open at once so far.</summary>
    public int PeakOpenStreams => Volatile.Read(ref _peakOpen);

    /// <summary>Starts counting <see cref="PeakOpenStreams"/> afresh from the streams open now.</summary>
    public void ResetPeak() => Volatile.Write(ref _peakOpen, Volatile.Read(ref _open));

    public static async Task<SseBackend> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(System.Net.IPAddress.Loopback, 0);
        });

        // A burst of 2,000 streams connects at once; the default backlog of 512 would make some wait for a SYN retry.
        builder.WebHost.UseSockets(sockets => sockets.Backlog = 4096);
        var app = builder.Build();
        var backend = new SseBackend(app);
        app.MapGet("/health", () => "ok");
        app.MapGet("/metrics", () => Results.Text("", "text/plain; version=0.0.4"));
        app.MapPost("/v1/chat/completions", backend.StreamAsync);
        await app.StartAsync(cancellationToken);
        backend.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    private async Task StreamAsync(HttpContext context)
    {
        var open = Interlocked.Increment(ref _open);
        try
        {
            int peak;
            while (open > (peak = Volatile.Read(ref _peakOpen)) && Interlocked.CompareExchange(ref _peakOpen, open, peak) != peak)
            {
            }

            var (chunks, usage) = await ReadRequestAsync(context.Request);
            var interval = TimeSpan.FromMilliseconds(
                double.TryParse(context.Request.Headers[IntervalHeader], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) ? ms : 10);
            var response = context.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            await response.StartAsync(context.RequestAborted);
            var writer = response.BodyWriter;
            for (var i = 0; i < chunks; i++)
            {
                if (interval > TimeSpan.Zero)
                {
                    await Task.Delay(interval, context.RequestAborted);
                }

                writer.Write(ChunkStart);
                writer.Write(i == chunks - 1 ? Length : Running);
                writer.Write(Sent);
                var digits = writer.GetSpan(20);
                Utf8Formatter.TryFormat(Stopwatch.GetTimestamp(), digits, out var written);
                writer.Advance(written);
                writer.Write(ChunkEnd);
                await writer.FlushAsync(context.RequestAborted);
            }

            if (usage)
            {
                writer.Write(Encoding.UTF8.GetBytes(
                    $$$"""data: {"id":"chatcmpl-drill","object":"chat.completion.chunk","created":0,"model":"sse","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":{{{chunks}}},"total_tokens":{{{chunks + 1}}}}}""" + "\n\n"));
            }

            writer.Write(Done);
            await writer.FlushAsync(context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    private static async Task<(int Chunks, bool Usage)> ReadRequestAsync(HttpRequest request)
    {
        using var body = await JsonDocument.ParseAsync(request.Body, default, request.HttpContext.RequestAborted);
        var chunks = body.RootElement.TryGetProperty("max_tokens", out var max) && max.TryGetInt32(out var n) && n > 0 ? n : 20;
        var usage = body.RootElement.TryGetProperty("stream_options", out var options)
            && options.ValueKind == JsonValueKind.Object
            && options.TryGetProperty("include_usage", out var include)
            && include.ValueKind == JsonValueKind.True;
        return (chunks, usage);
    }
}

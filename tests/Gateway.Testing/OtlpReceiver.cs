using System.IO.Compression;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Testing;

/// <summary>
/// An OTLP/HTTP collector for tests: real Kestrel on <c>127.0.0.1:0</c> taking <c>POST /v1/traces</c> and
/// <c>POST /v1/metrics</c> in protobuf (<c>application/x-protobuf</c>, gzipped or not), answering 200 with an empty
/// export response. Every export is kept (path, content type, body unzipped); <see cref="Spans"/> and
/// <see cref="Metrics"/> decode them. A body over <see cref="MaxBodyBytes"/> (unzipped) is refused with 413 and kept
/// without its bytes, so a runaway exporter cannot eat the test's memory; another content type gets 415.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    /// <summary>The largest body taken, after unzipping.</summary>
    public const int MaxBodyBytes = 16 * 1024 * 1024;

    /// <summary>The content type of OTLP/HTTP's binary protobuf encoding.</summary>
    public const string ProtobufContentType = "application/x-protobuf";

    private const string TracesPath = "/v1/traces";
    private const string MetricsPath = "/v1/metrics";

    private readonly WebApplication _app;
    private readonly List<OtlpExport> _exports = [];

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>The receiver's root, e.g. <c>http://127.0.0.1:41234/</c>: what an exporter's <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> takes.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The whole traces endpoint, <c>{BaseAddress}v1/traces</c>.</summary>
    public Uri TracesUrl => new(BaseAddress, TracesPath);

    /// <summary>The whole metrics endpoint, <c>{BaseAddress}v1/metrics</c>.</summary>
    public Uri MetricsUrl => new(BaseAddress, MetricsPath);

    /// <summary>Every export received so far, in order, refused ones included.</summary>
    public IReadOnlyList<OtlpExport> Exports
    {
        get
        {
            lock (_exports)
            {
                return [.. _exports];
            }
        }
    }

    /// <summary>Every span of every accepted <c>/v1/traces</c> export so far, in the order received.</summary>
    public IReadOnlyList<OtlpSpan> Spans => [.. Accepted(TracesPath).SelectMany(e => OtlpDecoder.ReadTraces(e.Body))];

    /// <summary>Every metric of every accepted <c>/v1/metrics</c> export so far, in the order received (one entry per export and metric).</summary>
    public IReadOnlyList<OtlpMetric> Metrics => [.. Accepted(MetricsPath).SelectMany(e => OtlpDecoder.ReadMetrics(e.Body))];

    /// <summary>Starts a receiver on a free loopback port.</summary>
    public static async Task<OtlpReceiver> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost(TracesPath, receiver.ReceiveAsync);
        app.MapPost(MetricsPath, receiver.ReceiveAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver.BaseAddress = new Uri(address + "/");
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private IEnumerable<OtlpExport> Accepted(string path) =>
        Exports.Where(e => e.Path == path && e.StatusCode == StatusCodes.Status200OK);

    private async Task ReceiveAsync(HttpContext context)
    {
        var request = context.Request;
        var contentType = request.ContentType;
        var encoding = request.Headers.ContentEncoding.ToString();
        var gzipped = string.Equals(encoding, "gzip", StringComparison.OrdinalIgnoreCase);
        int status;
        byte[] body = [];
        if (contentType is null || !contentType.StartsWith(ProtobufContentType, StringComparison.OrdinalIgnoreCase))
        {
            status = StatusCodes.Status415UnsupportedMediaType;
        }
        else if (encoding.Length > 0 && !gzipped)
        {
            status = StatusCodes.Status415UnsupportedMediaType;
        }
        else
        {
            try
            {
                var read = await ReadBoundedAsync(request.Body, gzipped, context.RequestAborted);
                status = read is null ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status200OK;
                body = read ?? [];
            }
            catch (InvalidDataException)
            {
                status = StatusCodes.Status400BadRequest;
            }
        }

        lock (_exports)
        {
            _exports.Add(new OtlpExport(request.Path, contentType, gzipped, body, status));
        }

        context.Response.StatusCode = status;
        if (status == StatusCodes.Status200OK)
        {
            // An empty ExportTraceServiceResponse (or metrics one) is zero bytes of protobuf: full success.
            context.Response.ContentType = ProtobufContentType;
        }
    }

    /// <summary>The body, unzipped when <paramref name="gzipped"/>; null when it is over <see cref="MaxBodyBytes"/>.</summary>
    private static async Task<byte[]?> ReadBoundedAsync(Stream body, bool gzipped, CancellationToken cancellationToken)
    {
        await using var unzipped = gzipped ? new GZipStream(body, CompressionMode.Decompress, leaveOpen: true) : null;
        var source = unzipped ?? body;
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = await source.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}

/// <summary>One POST an <see cref="OtlpReceiver"/> got.</summary>
/// <param name="Path"><c>/v1/traces</c> or <c>/v1/metrics</c>.</param>
/// <param name="ContentType">The request's content type, null when missing.</param>
/// <param name="Gzipped">Whether it came with <c>Content-Encoding: gzip</c>.</param>
/// <param name="Body">The body, unzipped; empty when refused.</param>
/// <param name="StatusCode">What the receiver answered: 200, or 413, 415 or 400 when it refused the export.</param>
public sealed record OtlpExport(string Path, string? ContentType, bool Gzipped, byte[] Body, int StatusCode)
{
    /// <summary>For failure messages: path, content type, size and answer, not the bytes.</summary>
    public override string ToString() => $"{Path} {ContentType} {Body.Length} bytes{(Gzipped ? " gzipped" : "")} -> {StatusCode}";
}

using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using Gateway.Testing;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Simulator.Tests.Telemetry;

/// <summary>
/// The test collector's decoder against the real thing: spans and metrics exported by the OpenTelemetry SDK's own OTLP
/// exporter over http/protobuf come back field for field.
/// </summary>
public sealed class OtlpReceiverTests
{
    [Fact]
    public async Task Traces_FromTheSdkExporter_DecodeToTheSpansSent()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var sourceName = UniqueName("traces");
        using var source = new ActivitySource(sourceName, "1.2.3");
        var remoteParent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
        Activity child, root;
        using (var provider = TracerProvider(sourceName, receiver))
        {
            using (child = source.StartActivity("decode-me", ActivityKind.Client, remoteParent)!)
            {
                child.SetTag("text", "héllo");
                child.SetTag("flag", true);
                child.SetTag("count", 42L);
                child.SetTag("negative", -7);
                child.SetTag("ratio", 0.25);
                child.SetTag("tags", new[] { "a", "b" });
                child.AddEvent(new ActivityEvent("first-token", tags: new ActivityTagsCollection { ["tokens"] = 1 }));
                child.SetStatus(ActivityStatusCode.Error, "boom");
            }

            Activity.Current = null;
            using (root = source.StartActivity("root", ActivityKind.Server, parentContext: default)!)
            {
                root.SetStatus(ActivityStatusCode.Ok);
            }
        }

        var spans = receiver.Spans;

        Assert.Equal(2, spans.Count);
        var decoded = spans[0];
        Assert.Equal("decode-me", decoded.Name);
        Assert.Equal(OtlpSpanKind.Client, decoded.Kind);
        Assert.Equal(remoteParent.TraceId.ToHexString(), decoded.TraceId);
        Assert.Equal(child.SpanId.ToHexString(), decoded.SpanId);
        Assert.Equal(remoteParent.SpanId.ToHexString(), decoded.ParentSpanId);
        Assert.Equal("otlp-receiver-test", decoded.ServiceName);
        Assert.Equal(sourceName, decoded.ScopeName);
        Assert.Equal(UnixNanoseconds(child.StartTimeUtc), decoded.StartTimeUnixNano);
        Assert.Equal(UnixNanoseconds(child.StartTimeUtc + child.Duration), decoded.EndTimeUnixNano);
        Assert.Equal("héllo", decoded.Attributes["text"]);
        Assert.Equal(true, decoded.Attributes["flag"]);
        Assert.Equal(42L, decoded.Attributes["count"]);
        Assert.Equal(-7L, decoded.Attributes["negative"]);
        Assert.Equal(0.25, decoded.Attributes["ratio"]);
        Assert.Equal(new object?[] { "a", "b" }, decoded.Attributes["tags"]);
        var tokenEvent = Assert.Single(decoded.Events);
        Assert.Equal("first-token", tokenEvent.Name);
        Assert.Equal(1L, tokenEvent.Attributes["tokens"]);
        Assert.Equal(OtlpStatusCode.Error, decoded.StatusCode);
        Assert.Equal("boom", decoded.StatusMessage);

        Assert.Equal("root", spans[1].Name);
        Assert.Equal(OtlpSpanKind.Server, spans[1].Kind);
        Assert.Equal(root.TraceId.ToHexString(), spans[1].TraceId);
        Assert.Null(spans[1].ParentSpanId);
        Assert.Equal(OtlpStatusCode.Ok, spans[1].StatusCode);
        Assert.All(receiver.Exports, e => Assert.Equal(("/v1/traces", OtlpReceiver.ProtobufContentType, false), (e.Path, e.ContentType, e.Gzipped)));
    }

    [Fact]
    public async Task Metrics_FromTheSdkExporter_DecodeToTheirNamesAndUnits()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var meterName = UniqueName("metrics");
        using var meter = new Meter(meterName);
        var requests = meter.CreateCounter<long>("test.requests", "{request}");
        var latency = meter.CreateHistogram<double>("test.latency", "s");
        using (var provider = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("otlp-receiver-test"))
            .AddMeter(meterName)
            .AddOtlpExporter(otlp =>
            {
                otlp.Endpoint = receiver.MetricsUrl;
                otlp.Protocol = OtlpExportProtocol.HttpProtobuf;
            })
            .Build())
        {
            requests.Add(3);
            latency.Record(0.5);
            Assert.True(provider.ForceFlush(10_000));
        }

        var metrics = receiver.Metrics;

        Assert.Contains(new OtlpMetric("test.requests", "{request}", "otlp-receiver-test", meterName), metrics);
        Assert.Contains(new OtlpMetric("test.latency", "s", "otlp-receiver-test", meterName), metrics);
        Assert.All(receiver.Exports, e => Assert.Equal("/v1/metrics", e.Path));
    }

    [Fact]
    public async Task Traces_Gzipped_AreUnzippedBeforeDecoding()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var sourceName = UniqueName("gzip");
        using var source = new ActivitySource(sourceName);
        using (TracerProvider(sourceName, receiver))
        {
            Activity.Current = null;
            source.StartActivity("zipped", ActivityKind.Internal, parentContext: default)!.Dispose();
        }

        var plain = Assert.Single(receiver.Exports).Body;
        using var http = new HttpClient();
        using var response = await http.PostAsync(receiver.TracesUrl, Protobuf(Gzip(plain), gzipped: true));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(OtlpReceiver.ProtobufContentType, response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.True(receiver.Exports[1].Gzipped);
        Assert.Equal(plain, receiver.Exports[1].Body);
        Assert.Equal(["zipped", "zipped"], receiver.Spans.Select(s => s.Name));
    }

    [Fact]
    public async Task Export_OverTheBodyLimitOnceUnzipped_Is413AndKeptWithoutItsBytes()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using var http = new HttpClient();

        // 17 MB of zeros zip to a few kilobytes: the bound is on what the receiver would have to hold.
        using var response = await http.PostAsync(receiver.TracesUrl, Protobuf(Gzip(new byte[OtlpReceiver.MaxBodyBytes + 1024 * 1024]), gzipped: true));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var export = Assert.Single(receiver.Exports);
        Assert.Equal(413, export.StatusCode);
        Assert.Empty(export.Body);
        Assert.Empty(receiver.Spans);
    }

    [Fact]
    public async Task Export_InJson_Is415()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        using var http = new HttpClient();

        using var response = await http.PostAsync(receiver.TracesUrl, new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", Assert.Single(receiver.Exports).ContentType);
    }

    private static TracerProvider TracerProvider(string sourceName, OtlpReceiver receiver) =>
        Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("otlp-receiver-test"))
            .AddSource(sourceName)
            .AddOtlpExporter(otlp =>
            {
                otlp.Endpoint = receiver.TracesUrl;
                otlp.Protocol = OtlpExportProtocol.HttpProtobuf;
                // One export per span as it ends: the order of the spans is the order they ended.
                otlp.ExportProcessorType = ExportProcessorType.Simple;
            })
            .Build();

    // Test classes run in parallel: a source or meter of its own keeps another test's spans out.
    private static string UniqueName(string what) => $"Gateway.Simulator.Tests.{what}.{Guid.NewGuid():N}";

    private static ulong UnixNanoseconds(DateTime utc) => (ulong)(utc - DateTime.UnixEpoch).Ticks * 100;

    private static byte[] Gzip(byte[] data)
    {
        using var zipped = new MemoryStream();
        using (var gzip = new GZipStream(zipped, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return zipped.ToArray();
    }

    private static ByteArrayContent Protobuf(byte[] body, bool gzipped)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(OtlpReceiver.ProtobufContentType);
        if (gzipped)
        {
            content.Headers.ContentEncoding.Add("gzip");
        }

        return content;
    }
}

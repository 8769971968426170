using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Telemetry;

/// <summary>Wires what telemetry measures beyond the request path's counters: the cost of every pool and the budgets, and OpenTelemetry.</summary>
internal static class TelemetryServiceCollectionExtensions
{
    /// <summary>The <c>service.name</c> when neither <see cref="OtlpOptions.ServiceName"/> nor <c>OTEL_SERVICE_NAME</c> gives one.</summary>
    public const string DefaultServiceName = "inference-gateway";

    /// <summary>
    /// Put on a request bound for a replica while tracing is on: the attempt it is, so that the HTTP client span of
    /// that attempt is kept and tagged, and every other outgoing request (probes, load scrapes, webhooks) is not traced.
    /// </summary>
    public static readonly HttpRequestOptionsKey<ReplicaAttempt> AttemptKey = new("gateway.attempt");

    /// <summary>Adds the <see cref="CostMeter"/> and the <see cref="CostSampler"/> that ticks it every second.</summary>
    public static IServiceCollection AddCostMeter(this IServiceCollection services)
    {
        services.AddSingleton(sp => new CostMeter(
            sp.GetRequiredService<GatewayTopology>(), sp.GetRequiredService<GatewayMetrics>(), sp.GetRequiredService<TimeProvider>()));
        return services.AddHostedService<CostSampler>();
    }

    /// <summary>
    /// Adds the <see cref="RequestLog"/> the request path hands its lines to, and, when <see cref="RequestLogOptions.Path"/>
    /// is given, the <see cref="RequestLogWriter"/> that writes them. The file is opened now, so a folder that cannot be
    /// created or a file that cannot be written stops the start naming <paramref name="key"/> (<c>Gateway:RequestLog</c>).
    /// Hosted services stop in the reverse of their order, so it is added before what drains the answers in flight,
    /// whose lines it then still writes.
    /// </summary>
    public static IServiceCollection AddRequestLog(this IServiceCollection services, RequestLogOptions options, string key)
    {
        services.AddSingleton(sp => new RequestLog(options, sp.GetRequiredService<GatewayMetrics>()));
        if (options.Path is null)
        {
            return services;
        }

        var file = RequestLogFile.Open(options, $"{key}:Path");
        services.AddSingleton(_ => file);
        return services.AddHostedService(sp => new RequestLogWriter(
            sp.GetRequiredService<RequestLog>(), file, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RequestLogWriter>>()));
    }

    /// <summary>
    /// Whether OpenTelemetry is on: <see cref="OtlpOptions.Endpoint"/> or <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> names a
    /// collector, and <c>OTEL_SDK_DISABLED</c> is not <c>true</c>.
    /// </summary>
    public static bool IsOpenTelemetryOn(TelemetryOptions options, IConfiguration configuration) =>
        !string.Equals(configuration["OTEL_SDK_DISABLED"], "true", StringComparison.OrdinalIgnoreCase)
        && !string.IsNullOrWhiteSpace(options.Otlp.Endpoint ?? configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    /// <summary>Adds the <see cref="InferenceTelemetry"/> the request path records into, whether OpenTelemetry is on or not.</summary>
    public static IServiceCollection AddInferenceTelemetry(this IServiceCollection services)
    {
        services.AddMetrics();
        return services.AddSingleton<InferenceTelemetry>();
    }

    /// <summary>
    /// When <see cref="IsOpenTelemetryOn"/>, adds OpenTelemetry's tracing and metrics with OTLP export: the server span of every request <paramref name="traced"/> lets through (the public
    /// listener's, not the admin's scrapes and probes), one HTTP client span per attempt at a replica, and the GenAI
    /// histograms. Keys under <c>Gateway:Telemetry:Otlp</c> win over their <c>OTEL_*</c> variables, which the SDK reads
    /// otherwise (<c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>OTEL_TRACES_SAMPLER</c>, <c>OTEL_BSP_*</c>, <c>OTEL_METRIC_EXPORT_INTERVAL</c>...).
    /// </summary>
    public static IServiceCollection AddOpenTelemetryExport(
        this IServiceCollection services, TelemetryOptions options, IConfiguration configuration, Func<HttpContext, bool> traced)
    {
        if (!IsOpenTelemetryOn(options, configuration))
        {
            return services;
        }

        var otlp = options.Otlp;
        var serviceName = otlp.ServiceName ?? configuration["OTEL_SERVICE_NAME"] ?? DefaultServiceName;
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithTracing(tracing =>
            {
                tracing
                    .AddAspNetCoreInstrumentation(aspNetCore =>
                    {
                        aspNetCore.Filter = traced;

                        // Attributes only: an exception's message and stack could hold what a client sent.
                        aspNetCore.RecordException = false;
                    })
                    .AddHttpClientInstrumentation(http =>
                    {
                        http.FilterHttpRequestMessage = request => request.Options.TryGetValue(AttemptKey, out _);
                        http.EnrichWithHttpRequestMessage = static (activity, request) =>
                        {
                            if (request.Options.TryGetValue(AttemptKey, out var attempt))
                            {
                                activity.SetTag("gateway.pool", attempt.Replica.Pool.Name);
                                activity.SetTag("gateway.replica", attempt.Replica.Id);
                                activity.SetTag("gateway.attempt", attempt.Number);
                            }
                        };
                        http.RecordException = false;
                    });
                if (otlp.SamplingRatio is { } ratio)
                {
                    tracing.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(ratio)));
                }

                tracing.AddOtlpExporter(exporter => Configure(exporter, otlp, "/v1/traces"));
            })
            .WithMetrics(metrics => metrics
                .AddMeter(InferenceTelemetry.MeterName)
                .AddOtlpExporter(exporter => Configure(exporter, otlp, "/v1/metrics")));
        return services;
    }

    /// <summary>
    /// Applies the keys that are set; the SDK has already applied the <c>OTEL_*</c> variables. A base URL from the keys
    /// gets the signal's path over HTTP, as the SDK does for <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>.
    /// </summary>
    private static void Configure(OtlpExporterOptions exporter, OtlpOptions otlp, string httpPath)
    {
        if (otlp.Protocol is { } protocol)
        {
            exporter.Protocol = protocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        }

        if (otlp.Endpoint is { } endpoint)
        {
            exporter.Endpoint = exporter.Protocol == OtlpExportProtocol.HttpProtobuf
                ? new Uri(endpoint.TrimEnd('/') + httpPath)
                : new Uri(endpoint);
        }
    }
}

/// <summary>Attempt <paramref name="Number"/> (1 first) of a request at <paramref name="Replica"/>, for its HTTP client span.</summary>
internal sealed record ReplicaAttempt(Replica Replica, int Number);

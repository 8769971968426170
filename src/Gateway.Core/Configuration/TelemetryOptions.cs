namespace Gateway.Configuration;

/// <summary>
/// OpenTelemetry: traces of every inference request and the GenAI metrics, exported over OTLP. Off unless
/// <see cref="OtlpOptions.Endpoint"/> or the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable gives a collector (and
/// <c>OTEL_SDK_DISABLED</c> is not <c>true</c>). The Prometheus metrics are the same either way.
/// </summary>
public sealed class TelemetryOptions
{
    /// <summary>Where and how to export; any key given here wins over its <c>OTEL_*</c> variable.</summary>
    public OtlpOptions Otlp { get; set; } = new();
}

/// <summary>The OTLP exporter of <see cref="TelemetryOptions"/>, each key standing for one standard <c>OTEL_*</c> variable.</summary>
public sealed class OtlpOptions
{
    /// <summary>
    /// The collector's base URL, e.g. <c>http://otel-collector:4317</c> (gRPC) or <c>http://otel-collector:4318</c>
    /// (HTTP, where <c>/v1/traces</c> and <c>/v1/metrics</c> are added); else <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>.
    /// </summary>
    public string? Endpoint { get; set; }

    /// <summary><c>grpc</c> or <c>http/protobuf</c>; else <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, else <c>grpc</c>.</summary>
    public string? Protocol { get; set; }

    /// <summary>The <c>service.name</c> of every span and metric; else <c>OTEL_SERVICE_NAME</c>, else <c>inference-gateway</c>.</summary>
    public string? ServiceName { get; set; }

    /// <summary>
    /// Share of new traces kept, 0 to 1, as a parent-based ratio sampler (a request whose caller sampled its trace is
    /// always kept, one whose caller did not never is); else <c>OTEL_TRACES_SAMPLER</c> and <c>OTEL_TRACES_SAMPLER_ARG</c>,
    /// else every trace.
    /// </summary>
    public double? SamplingRatio { get; set; }
}

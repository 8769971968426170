using OpenTelemetry.Exporter;

namespace Gateway.Simulator.Options;

/// <summary>
/// Everything the simulator can be told on its command line. Flag names follow vLLM where vLLM has the
/// setting and llm-d-inference-sim otherwise, so an operator recognises them.
/// </summary>
internal sealed record SimulatorOptions
{
    /// <summary>Address to bind (vLLM <c>--host</c>).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port to bind; 0 picks a free one and the simulator prints it (vLLM <c>--port</c>).</summary>
    public int Port { get; init; } = 8000;

    /// <summary>Names the model answers to; the first one labels the metrics (vLLM <c>--served-model-name</c>).</summary>
    public IReadOnlyList<string> ServedModelNames { get; init; } = ["qwen"];

    /// <summary>Sequences that run at once; the rest wait in FIFO order (vLLM <c>--max-num-seqs</c>).</summary>
    public int MaxNumSeqs { get; init; } = 4;

    /// <summary>Prompt plus completion tokens a request may hold (vLLM <c>--max-model-len</c>).</summary>
    public int MaxModelLen { get; init; } = 6144;

    /// <summary>Requests that may wait for a free sequence; beyond it the answer is 503.</summary>
    public int MaxWaitingQueueLength { get; init; } = 1000;

    /// <summary>Base time to first token, in milliseconds.</summary>
    public double TimeToFirstTokenMs { get; init; }

    /// <summary>Extra time to first token per prompt token (prefill), in milliseconds.</summary>
    public double PrefillTimePerTokenMs { get; init; }

    /// <summary>Time between two generated tokens, in milliseconds.</summary>
    public double InterTokenLatencyMs { get; init; }

    /// <summary>
    /// Latencies grow linearly from 1x with one running sequence to this factor with <see cref="MaxNumSeqs"/>
    /// running, as a real batch slows down when it fills.
    /// </summary>
    public double TimeFactorUnderLoad { get; init; } = 1.0;

    /// <summary>Seconds after start during which <c>/health</c> and the API answer 503 (loading weights).</summary>
    public double StartupDurationSeconds { get; init; }

    /// <summary>Percentage (0..100) of API requests answered with an injected failure.</summary>
    public double FailureInjectionRate { get; init; }

    /// <summary>Failure kinds to draw from; all kinds when empty.</summary>
    public IReadOnlyList<FailureType> FailureTypes { get; init; } = [];

    /// <summary>
    /// A test hook, off by default: <c>PUT /simulator/failure-injection</c> changes <see cref="FailureInjectionRate"/> and
    /// <see cref="FailureTypes"/> while the simulator runs, so a drill can make a live replica sick and well again.
    /// </summary>
    public bool FailureControl { get; init; }

    /// <summary>Seed for generated text and failure injection, so runs repeat.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>KV cache size in blocks (llm-d-inference-sim <c>--kv-cache-size</c>).</summary>
    public int KvCacheSize { get; init; } = 1024;

    /// <summary>Tokens per KV cache block (vLLM <c>--block-size</c>).</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>Length of an answer when the request sets no <c>max_tokens</c>; capped by the context.</summary>
    public int DefaultMaxTokens { get; init; } = 64;

    /// <summary>
    /// The key every <c>/v1/*</c> request must bring as <c>Authorization: Bearer</c>, else 401 (vLLM <c>--api-key</c>);
    /// <c>/health</c>, <c>/metrics</c> and <c>/version</c> stay open, as in vLLM. Null: no key.
    /// </summary>
    public string? ApiKey { get; init; }

    /// <summary>PEM certificate for TLS (vLLM <c>--ssl-certfile</c>); with <see cref="SslKeyFile"/>, the simulator listens on https.</summary>
    public string? SslCertFile { get; init; }

    /// <summary>PEM private key of <see cref="SslCertFile"/> (vLLM <c>--ssl-keyfile</c>).</summary>
    public string? SslKeyFile { get; init; }

    /// <summary>
    /// API requests taken per second, as a hosted API's rate limit; beyond it 429 with <c>Retry-After</c> until the
    /// second is over. 0: no limit.
    /// </summary>
    public int RequestsPerSecondLimit { get; init; }

    /// <summary>
    /// Where each completion request's <c>llm_request</c> span goes over OTLP, continuing the caller's <c>traceparent</c>
    /// (vLLM <c>--otlp-traces-endpoint</c>); the whole endpoint, e.g. <c>http://collector:4318/v1/traces</c> for
    /// http/protobuf. Null: no tracing at all.
    /// </summary>
    public Uri? OtlpTracesEndpoint { get; init; }

    /// <summary>
    /// How spans reach <see cref="OtlpTracesEndpoint"/>: <c>OTEL_EXPORTER_OTLP_TRACES_PROTOCOL</c>, else
    /// <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, else gRPC as in vLLM.
    /// </summary>
    public OtlpExportProtocol OtlpTracesProtocol { get; init; } = OtlpExportProtocol.Grpc;

    /// <summary>The <c>service.name</c> of the spans: <c>OTEL_SERVICE_NAME</c>, else <c>vllm-simulator</c>.</summary>
    public string OtelServiceName { get; init; } = "vllm-simulator";
}

/// <summary>Failures the simulator can inject (llm-d-inference-sim's names, plus 503 for an overloaded replica).</summary>
internal enum FailureType
{
    RateLimit,
    InvalidApiKey,
    ContextLength,
    ServerError,
    InvalidRequest,
    ModelNotFound,
    Unavailable,
}

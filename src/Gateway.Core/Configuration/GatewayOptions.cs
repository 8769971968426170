namespace Gateway.Configuration;

/// <summary>The gateway's configuration, bound from the <c>Gateway</c> section (<c>config/gateway.json</c>, then environment variables).</summary>
public sealed class GatewayOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "Gateway";

    /// <summary>Where applications send OpenAI requests.</summary>
    public string PublicUrl { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Where operators and Prometheus look (<c>/healthz</c>, <c>/readyz</c>, <c>/admin/status</c>); never public.</summary>
    public string AdminUrl { get; set; } = "http://127.0.0.1:9090";

    /// <summary>Domain of KServe-style host names: service <c>qwen-chat</c> in <c>default</c> answers to <c>qwen-chat-default.{Domain}</c>.</summary>
    public string Domain { get; set; } = "example.com";

    /// <summary>Largest request body accepted; above it the answer is 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Who may read the admin listener: its bearer token, asked for when it binds an address other than loopback.</summary>
    public AdminOptions Admin { get; set; } = new();

    /// <summary>Connection, header-time and body-rate limits of the listeners (Kestrel's).</summary>
    public ListenerLimitsOptions Limits { get; set; } = new();

    /// <summary>How requests are sent to replicas.</summary>
    public ForwardingOptions Forwarding { get; set; } = new();

    /// <summary>Whose <c>X-Forwarded-*</c> headers the gateway believes (see <see cref="ForwardedHeadersOptions"/>).</summary>
    public ForwardedHeadersOptions ForwardedHeaders { get; set; } = new();

    /// <summary>
    /// Seconds in-flight answers get to finish after SIGTERM or Ctrl+C; the gateway then ends those still running
    /// (<c>shutting_down</c>) before the listener closes and replicas are stopped.
    /// </summary>
    public double DrainTimeoutSeconds { get; set; } = 30;

    /// <summary>The inference services behind the gateway.</summary>
    public List<ServiceOptions> Services { get; set; } = [];

    /// <summary>Whether callers need an API key (<see cref="AuthOptions.Mode"/>).</summary>
    public AuthOptions Auth { get; set; } = new();

    /// <summary>The applications sharing the gateway, with their keys, classes, limits and residency.</summary>
    public List<TenantOptions> Tenants { get; set; } = [];

    /// <summary>Per priority class (<c>Critical</c>, <c>Standard</c>, <c>Sheddable</c>): whether its demand scales cloud pools.</summary>
    public Dictionary<PriorityClass, PriorityClassOptions> Classes { get; set; } = [];

    /// <summary>The Kubernetes cluster of Kubernetes pools and of leader election: how to reach it, and whether to elect a leader.</summary>
    public KubernetesClusterOptions Kubernetes { get; set; } = new();

    /// <summary>OpenTelemetry traces and GenAI metrics over OTLP; off unless a collector is named.</summary>
    public TelemetryOptions Telemetry { get; set; } = new();

    /// <summary>One JSON line per inference request, for replaying real traffic; off unless a path is given.</summary>
    public RequestLogOptions RequestLog { get; set; } = new();
}

/// <summary>Timeouts and retries of the hop from the gateway to a replica.</summary>
public sealed class ForwardingOptions
{
    /// <summary>Seconds to open a connection to a replica before giving up on it.</summary>
    public double ConnectTimeoutSeconds { get; set; } = 5;

    /// <summary>Seconds a replica may stay silent (before its first byte, or between two chunks) before the answer is 504.</summary>
    public double FirstByteTimeoutSeconds { get; set; } = 120;

    /// <summary>Replicas tried for one request when a replica refuses or drops the connection, or answers 503, before any byte reaches the client.</summary>
    public int MaxAttempts { get; set; } = 2;

    /// <summary>
    /// The most bytes of one answer the gateway passes on from a replica. A streamed answer over it ends with an error
    /// event (<c>answer_too_large</c>) and <c>[DONE]</c>; a plain one is answered 502 when its declared length is over,
    /// and cut off otherwise. Far above a real answer (a 128k-token stream with 20 log-probabilities a token is under
    /// 200 MB), it stops a replica that never ends an answer from holding a slot and the client's line for ever.
    /// </summary>
    public long MaxAnswerBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// For a streamed request that does not ask for usage, ask the backend for it (<c>stream_options.include_usage</c>)
    /// and leave the usage event out of what the client gets, so its tokens are counted. The one body rewrite
    /// the gateway makes; false forwards such requests byte for byte and leaves their tokens uncounted.
    /// </summary>
    public bool AskForStreamUsage { get; set; } = true;

    /// <summary>
    /// Send the client's Host header to the replica instead of the replica's own authority. Off by default: a replica
    /// is addressed by what configuration says it is, and a vLLM server has no use for the public host name.
    /// </summary>
    public bool KeepClientHost { get; set; }
}

/// <summary>One inference service (a KServe InferenceService): its names, its queue and its pools of replicas.</summary>
public sealed class ServiceOptions
{
    /// <summary>Service name, e.g. <c>qwen-chat</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary>Namespace, e.g. <c>default</c>.</summary>
    public string Namespace { get; set; } = "default";

    /// <summary>Extra host names the service answers to, besides <c>{Name}-{Namespace}.{Domain}</c>.</summary>
    public List<string> Hosts { get; set; } = [];

    /// <summary>Model names the service serves; a request whose Host names no service is routed by its <c>model</c>.</summary>
    public List<string> Models { get; set; } = [];

    /// <summary>How requests are spread over replicas: <c>SpillOver</c> (on-prem first) or <c>RoundRobin</c> (a baseline).</summary>
    public BalancingMode Balancing { get; set; } = BalancingMode.SpillOver;

    /// <summary>The gateway queue that holds requests while every ready replica is full.</summary>
    public QueueOptions Queue { get; set; } = new();

    /// <summary>Pools of replicas, filled in order of priority.</summary>
    public List<PoolOptions> Pools { get; set; } = [];

    /// <summary>
    /// Share of the ready slots (more than 0, at most 1) the service should use: elastic pools are scaled out while
    /// demand (requests in flight plus queued) would exceed it, leaving headroom for the next burst.
    /// </summary>
    public double TargetUtilization { get; set; } = 0.8;

    /// <summary>
    /// Completion tokens a request that sets no <c>max_tokens</c> (nor <c>max_completion_tokens</c>) is taken to ask for:
    /// with its estimated prompt, what its tenant's <see cref="TenantLimitsOptions.TokensPerMinute"/> reserves for it until
    /// the answer's usage says what it used. Only the gateway uses it; the request goes to the replica as it came.
    /// </summary>
    public int AssumedMaxTokens { get; set; } = 512;

    /// <summary>What the service's cloud GPU and provider pools may cost over a sliding hour; absent, no cap.</summary>
    public BudgetOptions? Budget { get; set; }
}

/// <summary>How requests are spread over a service's replicas.</summary>
public enum BalancingMode
{
    /// <summary>Highest-priority pool with a free slot first; least loaded replica inside it.</summary>
    SpillOver,

    /// <summary>Every replica in turn, whatever its pool: the blind split the gateway is compared with.</summary>
    RoundRobin,
}

/// <summary>Limits of a service's gateway queue.</summary>
public sealed class QueueOptions
{
    /// <summary>Requests that may wait; one more is answered 429 <c>queue_full</c>.</summary>
    public int MaxWaiting { get; set; } = 100;

    /// <summary>Seconds a request may wait (at most 86400); then it is answered 503 <c>queue_timeout</c>.</summary>
    public double MaxWaitSeconds { get; set; } = 30;

    /// <summary>The <c>Retry-After</c> the gateway suggests, in seconds, when it turns a request away.</summary>
    public int RetryAfterSeconds { get; set; } = 1;
}

/// <summary>A pool of replicas of one kind (on-prem, cloud-elastic) with a priority and a capacity per replica.</summary>
public sealed class PoolOptions
{
    /// <summary>Pool name, e.g. <c>on-prem</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary>0 is filled first; a higher number only takes the overflow.</summary>
    public int Priority { get; set; }

    /// <summary>
    /// Where the pool's replicas run, for tenants' residency; absent: <see cref="PoolLocation.OnPrem"/> for priority 0,
    /// <see cref="PoolLocation.Cloud"/> for any other and for a hosted API (<see cref="Provider"/>).
    /// </summary>
    public PoolLocation? Location { get; set; }

    /// <summary>
    /// The name of an environment variable holding the key the pool's replicas ask for (vLLM's <c>--api-key</c>), sent as
    /// <c>Authorization: Bearer</c> instead of the client's, which never reaches a replica. Not with <see cref="BackendKeyFile"/>.
    /// </summary>
    public string? BackendKeyEnv { get; set; }

    /// <summary>A file holding the pool's backend key (surrounding whitespace ignored), e.g. a mounted Secret.</summary>
    public string? BackendKeyFile { get; set; }

    /// <summary>Concurrent requests one replica serves within its latency target (vLLM's <c>--max-num-seqs</c> or lower).</summary>
    public int CapacityPerReplica { get; set; } = 4;

    /// <summary>Fixed replica addresses (<c>http://host:port</c>). Use exactly one of Static, <see cref="Process"/>, <see cref="Kubernetes"/>.</summary>
    public List<string> Static { get; set; } = [];

    /// <summary>Replicas started as local processes. Use exactly one of <see cref="Static"/>, Process, <see cref="Kubernetes"/>.</summary>
    public ProcessSourceOptions? Process { get; set; }

    /// <summary>Replicas discovered as pods of a Kubernetes service. Use exactly one of <see cref="Static"/>, <see cref="Process"/>, Kubernetes.</summary>
    public KubernetesSourceOptions? Kubernetes { get; set; }

    /// <summary>How the replicas' own load figures are scraped and trusted.</summary>
    public LoadOptions Load { get; set; } = new();

    /// <summary>How the replicas' health is checked.</summary>
    public HealthOptions Health { get; set; } = new();

    /// <summary>Makes the pool elastic (scaled with demand between its minimum and maximum); absent, the pool is fixed-size.</summary>
    public ScalingOptions? Scaling { get; set; }

    /// <summary>
    /// A hosted OpenAI-compatible API instead of GPU replicas. Use exactly one of <see cref="Static"/>, <see cref="Process"/>,
    /// <see cref="Kubernetes"/>, Provider; a provider pool's <see cref="Role"/> is <see cref="PoolRole.Bridge"/> or
    /// <see cref="PoolRole.Overflow"/>.
    /// </summary>
    public ProviderSourceOptions? Provider { get; set; }

    /// <summary>What the pool is for in placement; absent, <see cref="PoolRole.Gpu"/>.</summary>
    public PoolRole? Role { get; set; }

    /// <summary>When a <see cref="PoolRole.Bridge"/> pool takes a request.</summary>
    public BridgeOptions Bridge { get; set; } = new();

    /// <summary>What the pool costs.</summary>
    public CostOptions Cost { get; set; } = new();
}

/// <summary>Replicas the gateway starts as child processes, one per port.</summary>
public sealed class ProcessSourceOptions
{
    /// <summary>Program to run; <c>{appdir}</c> is the gateway's own folder.</summary>
    public string Command { get; set; } = "";

    /// <summary>Arguments; <c>{port}</c> is replaced by the port the replica must listen on, <c>{appdir}</c> by the gateway's folder.</summary>
    public List<string> Arguments { get; set; } = [];

    /// <summary>Replicas to keep running.</summary>
    public int Replicas { get; set; } = 1;

    /// <summary>
    /// First port of the range replicas listen on (with <see cref="LastPort"/>), for hosts whose firewall opens only
    /// a range; each replica gets the lowest port of the range that no replica of the pool has and nothing else
    /// holds. 0 (the default): any free port the system gives.
    /// </summary>
    public int FirstPort { get; set; }

    /// <summary>Last port of the range, inclusive; 0 with <see cref="FirstPort"/> 0.</summary>
    public int LastPort { get; set; }

    /// <summary>Seconds a new replica may take until <c>/health</c> answers 200 before it is restarted.</summary>
    public double ReadyTimeoutSeconds { get; set; } = 120;

    /// <summary>Seconds a stopping replica gets after SIGTERM before it is killed.</summary>
    public double StopTimeoutSeconds { get; set; } = 10;
}

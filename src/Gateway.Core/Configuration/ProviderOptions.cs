namespace Gateway.Configuration;

/// <summary>What a pool is for in placement (<see cref="PoolOptions.Role"/>).</summary>
public enum PoolRole
{
    /// <summary>GPU replicas, filled in order of priority: the on-prem and cloud tiers.</summary>
    Gpu,

    /// <summary>
    /// A hosted API that hides the boot of cloud GPUs: it takes a request only once the request has waited
    /// <see cref="BridgeOptions.MaxQueueWaitMs"/> in the queue while elastic GPU replicas are booting or at their maximum.
    /// After every GPU tier, before the queue; it takes nothing new once GPUs are ready.
    /// </summary>
    Bridge,

    /// <summary>A hosted API as a plain last tier, after every GPU pool, for a fleet with no GPU cloud.</summary>
    Overflow,
}

/// <summary>A hosted OpenAI-compatible API as a pool's only replica (<see cref="PoolOptions.Provider"/>).</summary>
public sealed class ProviderSourceOptions
{
    /// <summary>
    /// The API's base URL as OpenAI's SDKs take it, e.g. <c>https://dashscope.aliyuncs.com/compatible-mode/v1</c>:
    /// <c>/chat/completions</c> and <c>/completions</c> are added to it. HTTPS only; the certificate is validated.
    /// </summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>A PEM file of the private CA the API's certificate chains to, trusted in place of the system's roots.</summary>
    public string? CaFile { get; set; }

    /// <summary>The name of an environment variable holding the API's key, sent as <c>Authorization: Bearer</c>. Not with <see cref="ApiKeyFile"/>.</summary>
    public string? ApiKeyEnv { get; set; }

    /// <summary>A file holding the API's key (surrounding whitespace ignored), e.g. a mounted Secret.</summary>
    public string? ApiKeyFile { get; set; }

    /// <summary>
    /// The service's model names to the provider's: the request's <c>model</c> is rewritten on the way out, and the
    /// answer's back on the way in, plain and streamed. A model not named goes as it is.
    /// </summary>
    public Dictionary<string, string> ModelMap { get; set; } = [];

    /// <summary>Requests the gateway has at the API at once: the pool's capacity.</summary>
    public int MaxConcurrency { get; set; } = 16;

    /// <summary>Seconds one attempt may take until the answer's headers arrive (a plain answer's are sent when it is done).</summary>
    public double AttemptTimeoutSeconds { get; set; } = 120;

    /// <summary>Attempts again after a 429, 5xx or timeout of the API, waiting what its <c>Retry-After</c> asks (backing off without one).</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>Seconds the circuit stays open (the pool takes nothing) once most recent attempts failed.</summary>
    public double BreakSeconds { get; set; } = 30;

    /// <summary>
    /// A local process that serves this API, for demos and tests (the simulator): started with the gateway, its
    /// <c>{port}</c> is <see cref="BaseUrl"/>'s; <c>{certfile}</c> and <c>{keyfile}</c> name a certificate the gateway
    /// makes for it at start and trusts alone, and its key, when the pool names one, reaches it as <c>VLLM_API_KEY</c>.
    /// </summary>
    public StandInOptions? StandIn { get; set; }
}

/// <summary>A process standing in for a hosted API (<see cref="ProviderSourceOptions.StandIn"/>).</summary>
public sealed class StandInOptions
{
    /// <summary>Program to run; <c>{appdir}</c> is the gateway's own folder.</summary>
    public string Command { get; set; } = "";

    /// <summary>Arguments, with <c>{port}</c>, <c>{certfile}</c>, <c>{keyfile}</c> and <c>{appdir}</c> replaced.</summary>
    public List<string> Arguments { get; set; } = [];
}

/// <summary>When a <see cref="PoolRole.Bridge"/> pool takes a request.</summary>
public sealed class BridgeOptions
{
    /// <summary>Milliseconds a request waits in the queue for a GPU before the bridge may take it.</summary>
    public int MaxQueueWaitMs { get; set; } = 200;
}

/// <summary>What a pool costs, in the operator's currency.</summary>
public sealed class CostOptions
{
    /// <summary>Per replica and hour, counted over the seconds its replicas are ready, booting or draining (on-prem: 0 or its amortised cost).</summary>
    public double PerReplicaHour { get; set; }

    /// <summary>Per million prompt tokens, from the answers' usage (a provider's price).</summary>
    public double PerMillionPromptTokens { get; set; }

    /// <summary>Per million completion tokens, from the answers' usage, streams included.</summary>
    public double PerMillionCompletionTokens { get; set; }
}

/// <summary>What a service may spend on its cloud and bridge tiers (<see cref="ServiceOptions.Budget"/>).</summary>
public sealed class BudgetOptions
{
    /// <summary>
    /// The most its cloud GPU and provider pools may cost over any sliding hour; once spent, a provider takes nothing
    /// new and cloud pools are not scaled out.
    /// </summary>
    public double MaxPerHour { get; set; }
}

namespace Gateway.Configuration;

/// <summary>How a pool's replicas' own load figures (vLLM's <c>/metrics</c>) are read and trusted.</summary>
public sealed class LoadOptions
{
    /// <summary>
    /// Whether the gateway scrapes the pool's replicas at all. Off, placement goes by this gateway's own in-flight
    /// counts alone: right when this gateway is the replicas' only client.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Seconds between two scrapes of a replica's <c>/metrics</c>; a scrape may take at most this long.</summary>
    public double ScrapeIntervalSeconds { get; set; } = 1;

    /// <summary>
    /// Scrape intervals without a good scrape after which a replica's figures count as unknown, and
    /// <see cref="WhenStale"/> decides what placement does.
    /// </summary>
    public int StaleAfterIntervals { get; set; } = 3;

    /// <summary>What placement assumes about a replica whose figures are stale or were never read.</summary>
    public StaleLoadPolicy WhenStale { get; set; } = StaleLoadPolicy.LocalCounts;

    /// <summary>
    /// Share of the KV cache (vLLM's <c>vllm:kv_cache_usage_perc</c>, 0..1) above which a replica takes no new
    /// request, however few it runs: vLLM would have to preempt sequences to fit one more.
    /// </summary>
    public double KvCacheSaturation { get; set; } = 0.95;
}

/// <summary>What placement assumes about a replica whose scraped load figures are stale.</summary>
public enum StaleLoadPolicy
{
    /// <summary>
    /// Go by this gateway's own in-flight count, as if nothing else used the replica. The right choice for a
    /// replica scraped across a WAN, where a lost scrape says more about the network than about the replica.
    /// </summary>
    LocalCounts,

    /// <summary>Treat the replica as full until a scrape succeeds again: for replicas shared with many other clients.</summary>
    Saturated,
}

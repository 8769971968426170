namespace Gateway.Configuration;

/// <summary>How a pool's replicas' own load figures (vLLM's <c>/metrics</c>) are read and trusted.</summary>
public sealed class LoadOptions
{
    /// <summary>Seconds between two scrapes of a replica's <c>/metrics</c>.</summary>
    public double ScrapeIntervalSeconds { get; set; } = 1;
}

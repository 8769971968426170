namespace Gateway.Configuration;

/// <summary>How a pool's replicas are checked: active <c>/health</c> probes and failures seen in real traffic.</summary>
public sealed class HealthOptions
{
    /// <summary>Seconds between two probes of a healthy replica's <c>/health</c>.</summary>
    public double ProbeIntervalSeconds { get; set; } = 1;
}

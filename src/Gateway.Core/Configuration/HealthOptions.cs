namespace Gateway.Configuration;

/// <summary>
/// How a pool's replicas are checked: active <c>/health</c> probes and failures seen in real traffic. A replica
/// that fails <see cref="UnhealthyAfterFailures"/> times in a row (probes or requests) takes no new requests; it
/// is probed with a growing back-off and comes back by itself once a probe answers 200.
/// </summary>
public sealed class HealthOptions
{
    /// <summary>Seconds between two probes of a healthy replica's <c>/health</c>; the first back-off of an unhealthy one.</summary>
    public double ProbeIntervalSeconds { get; set; } = 1;

    /// <summary>Seconds a probe may take; a slower answer counts as a failure.</summary>
    public double ProbeTimeoutSeconds { get; set; } = 1;

    /// <summary>Failures in a row (failed probes, refused connections, 5xx answers) that take a replica out.</summary>
    public int UnhealthyAfterFailures { get; set; } = 2;

    /// <summary>The longest wait between two probes of an unhealthy replica; the wait doubles from <see cref="ProbeIntervalSeconds"/> up to it.</summary>
    public double MaxBackoffSeconds { get; set; } = 30;
}

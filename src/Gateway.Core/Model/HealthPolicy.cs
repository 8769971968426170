using Gateway.Configuration;

namespace Gateway.Model;

/// <summary>A pool's <see cref="HealthOptions"/> as the health checks use them, read once.</summary>
/// <param name="ProbeInterval">Between two probes of a healthy replica; the first back-off of an unhealthy one.</param>
/// <param name="ProbeTimeout">How long one probe may take.</param>
/// <param name="UnhealthyAfterFailures">Failures in a row that take a replica out.</param>
/// <param name="MaxBackoff">The longest wait between two probes of an unhealthy replica.</param>
internal sealed record HealthPolicy(TimeSpan ProbeInterval, TimeSpan ProbeTimeout, int UnhealthyAfterFailures, TimeSpan MaxBackoff)
{
    public static HealthPolicy From(HealthOptions options) => new(
        TimeSpan.FromSeconds(options.ProbeIntervalSeconds),
        TimeSpan.FromSeconds(options.ProbeTimeoutSeconds),
        options.UnhealthyAfterFailures,
        TimeSpan.FromSeconds(options.MaxBackoffSeconds));

    /// <summary>The wait before the next probe of an unhealthy replica after <paramref name="strikes"/> earlier strikes: interval × 2^strikes, capped.</summary>
    public TimeSpan Backoff(int strikes)
    {
        // In seconds as a double: a day's interval times 2^30 would overflow a TimeSpan before the cap applies.
        var seconds = ProbeInterval.TotalSeconds * Math.Pow(2, strikes);
        return seconds < MaxBackoff.TotalSeconds ? TimeSpan.FromSeconds(seconds) : MaxBackoff;
    }
}

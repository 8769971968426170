using System.Globalization;

namespace Gateway.Configuration;

/// <summary>Checks a pool's <see cref="HealthOptions"/> (probe period, timeout, back-off, failures in a row); each message starts with the key path.</summary>
internal static class HealthOptionsValidator
{
    // Timers run at most about 49 days; a day is more than any probe period needs.
    private const int MaxTimerSeconds = 24 * 60 * 60;

    /// <summary>Adds a message to <paramref name="errors"/> for every bad value under <paramref name="path"/> (<c>…:Pools:1:Health</c>).</summary>
    public static void Check(List<string> errors, HealthOptions health, string path)
    {
        TimerSeconds(errors, $"{path}:ProbeIntervalSeconds", health.ProbeIntervalSeconds);
        TimerSeconds(errors, $"{path}:ProbeTimeoutSeconds", health.ProbeTimeoutSeconds);
        TimerSeconds(errors, $"{path}:MaxBackoffSeconds", health.MaxBackoffSeconds);

        // The back-off starts at the probe interval and doubles up to the maximum; a smaller maximum would shrink it.
        if (health.MaxBackoffSeconds < health.ProbeIntervalSeconds)
        {
            errors.Add($"{path}:MaxBackoffSeconds: must be at least ProbeIntervalSeconds ({health.ProbeIntervalSeconds.ToString(CultureInfo.InvariantCulture)}), got {health.MaxBackoffSeconds.ToString(CultureInfo.InvariantCulture)}");
        }

        if (health.UnhealthyAfterFailures is < 1 or > 100)
        {
            errors.Add($"{path}:UnhealthyAfterFailures: must be between 1 and 100, got {health.UnhealthyAfterFailures}");
        }
    }

    /// <summary>A period a timer waits: positive, and at most a day (timers run at most about 49 days).</summary>
    private static void TimerSeconds(List<string> errors, string key, double value)
    {
        OptionsChecks.Positive(errors, key, value);
        if (value > MaxTimerSeconds && !double.IsInfinity(value))
        {
            errors.Add($"{key}: must be at most {MaxTimerSeconds} (a day), got {value.ToString(CultureInfo.InvariantCulture)}");
        }
    }
}

using System.Globalization;

namespace Gateway.Configuration;

/// <summary>Checks one pool's <see cref="LoadOptions"/>; each message starts with the key path of the bad value.</summary>
internal static class LoadOptionsValidator
{
    private const double MaxScrapeIntervalSeconds = 3600;
    private const int MaxStaleAfterIntervals = 100;

    /// <summary>Adds a message to <paramref name="errors"/> for every bad value under <paramref name="path"/> (<c>…:Pools:1:Load</c>).</summary>
    public static void Check(List<string> errors, LoadOptions load, string path)
    {
        var interval = load.ScrapeIntervalSeconds;
        if (!(interval > 0) || double.IsInfinity(interval))
        {
            errors.Add($"{path}:ScrapeIntervalSeconds: must be a positive number of seconds, got {Format(interval)}");
        }
        else if (interval > MaxScrapeIntervalSeconds)
        {
            errors.Add($"{path}:ScrapeIntervalSeconds: must be at most {Format(MaxScrapeIntervalSeconds)} (an hour), got {Format(interval)}");
        }

        if (load.StaleAfterIntervals is < 1 or > MaxStaleAfterIntervals)
        {
            errors.Add($"{path}:StaleAfterIntervals: must be between 1 and {MaxStaleAfterIntervals}, got {load.StaleAfterIntervals}");
        }

        if (!Enum.IsDefined(load.WhenStale))
        {
            errors.Add($"{path}:WhenStale: must be LocalCounts or Saturated");
        }

        // 1 is allowed and means "never saturated by KV cache use alone"; 0 would mean "always saturated".
        if (!(load.KvCacheSaturation > 0 && load.KvCacheSaturation <= 1))
        {
            errors.Add($"{path}:KvCacheSaturation: must be a share of the KV cache above 0 and at most 1, got {Format(load.KvCacheSaturation)}");
        }
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}

using System.Globalization;

namespace Gateway.Configuration;

/// <summary>Checks <see cref="ListenerLimitsOptions"/> against what Kestrel accepts; each message starts with the key path.</summary>
internal static class ListenerLimitsOptionsValidator
{
    // An hour is far longer than any client needs for its headers; a longer wait only holds sockets.
    private const int MaxHeadersSeconds = 60 * 60;

    /// <summary>Adds a message to <paramref name="errors"/> for every bad value under <paramref name="path"/> (<c>Gateway:Limits</c>).</summary>
    public static void Check(List<string> errors, ListenerLimitsOptions limits, string path)
    {
        if (limits.MaxConnections < 1)
        {
            errors.Add($"{path}:MaxConnections: must be at least 1, got {limits.MaxConnections}");
        }

        OptionsChecks.Positive(errors, $"{path}:RequestHeadersTimeoutSeconds", limits.RequestHeadersTimeoutSeconds);
        if (limits.RequestHeadersTimeoutSeconds > MaxHeadersSeconds && !double.IsInfinity(limits.RequestHeadersTimeoutSeconds))
        {
            errors.Add($"{path}:RequestHeadersTimeoutSeconds: must be at most {MaxHeadersSeconds} (an hour), got {Format(limits.RequestHeadersTimeoutSeconds)}");
        }

        if (!(limits.MinRequestBodyBytesPerSecond >= 0) || double.IsInfinity(limits.MinRequestBodyBytesPerSecond))
        {
            errors.Add($"{path}:MinRequestBodyBytesPerSecond: must be 0 (no minimum) or more, got {Format(limits.MinRequestBodyBytesPerSecond)}");
        }

        // Kestrel checks data rates once a second, so it refuses a grace period of a second or less.
        if (!(limits.MinRequestBodyGraceSeconds > 1) || limits.MinRequestBodyGraceSeconds > MaxHeadersSeconds)
        {
            errors.Add($"{path}:MinRequestBodyGraceSeconds: must be more than 1 and at most {MaxHeadersSeconds}, got {Format(limits.MinRequestBodyGraceSeconds)}");
        }
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}

using System.Globalization;

namespace Gateway.Configuration;

/// <summary>Checks a service's <see cref="QueueOptions"/> (how many requests wait, how long, and the Retry-After); each message starts with the key path.</summary>
internal static class QueueOptionsValidator
{
    private const int MaxWaitSeconds = 24 * 60 * 60;

    /// <summary>Adds a message to <paramref name="errors"/> for every bad value under <paramref name="path"/> (<c>…:Services:0:Queue</c>).</summary>
    public static void Check(List<string> errors, QueueOptions queue, string path)
    {
        if (queue.MaxWaiting < 0)
        {
            errors.Add($"{path}:MaxWaiting: must be 0 or more, got {queue.MaxWaiting}");
        }

        OptionsChecks.Positive(errors, $"{path}:MaxWaitSeconds", queue.MaxWaitSeconds);
        if (queue.MaxWaitSeconds > MaxWaitSeconds && !double.IsInfinity(queue.MaxWaitSeconds))
        {
            // Longer than a timer can run (about 49 days) would make every queued request fail; a day is plenty.
            errors.Add($"{path}:MaxWaitSeconds: must be at most {MaxWaitSeconds} (a day), got {queue.MaxWaitSeconds.ToString(CultureInfo.InvariantCulture)}");
        }

        if (queue.RetryAfterSeconds < 1)
        {
            errors.Add($"{path}:RetryAfterSeconds: must be at least 1, got {queue.RetryAfterSeconds}");
        }
    }
}

namespace Gateway.Telemetry;

/// <summary>
/// What was spent over the last hour, in a fixed ring of one-minute buckets, so memory stays the same however long the
/// gateway runs and however many answers it charges. The hour slides a minute at a time: an amount counts for the rest
/// of the minute it was charged in and the 59 minutes after, so a steady spend of a price per hour never reads more than
/// that price. Thread-safe; charging allocates nothing.
/// </summary>
internal sealed class SpendWindow
{
    /// <summary>Minutes in the window: the current one and the 59 before it.</summary>
    public const int Minutes = 60;

    private readonly Lock _lock = new();
    private readonly double[] _amounts = new double[Minutes];

    // The minute (since the Unix epoch) each bucket holds; a bucket of an older minute is emptied when reused.
    private readonly long[] _minutes = new long[Minutes];

    /// <summary>Adds <paramref name="amount"/> spent at <paramref name="at"/>.</summary>
    public void Add(DateTimeOffset at, double amount)
    {
        var minute = MinuteOf(at);
        var slot = (int)(minute % Minutes);
        lock (_lock)
        {
            if (_minutes[slot] < minute)
            {
                _minutes[slot] = minute;
                _amounts[slot] = 0;
            }
            else if (_minutes[slot] > minute)
            {
                // Older than the window already (a clock that went back): it no longer counts.
                return;
            }

            _amounts[slot] += amount;
        }
    }

    /// <summary>What was spent in the hour up to <paramref name="now"/>.</summary>
    public double Total(DateTimeOffset now)
    {
        var oldest = MinuteOf(now) - (Minutes - 1);
        var total = 0.0;
        lock (_lock)
        {
            for (var slot = 0; slot < Minutes; slot++)
            {
                if (_minutes[slot] >= oldest)
                {
                    total += _amounts[slot];
                }
            }
        }

        return total;
    }

    private static long MinuteOf(DateTimeOffset at) => at.ToUnixTimeSeconds() / 60;
}

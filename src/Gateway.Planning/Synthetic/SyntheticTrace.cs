namespace Gateway.Planning;

/// <summary>
/// What the open-loop generators share: the <c>minutes</c> and <c>seed</c> keys, exponential gaps, and turning
/// arrival times into requests. Arrivals and sizes come from two generators seeded from the one seed, so changing a
/// size key leaves the arrival times as they were and two sweeps over one seed meet the same burst.
/// </summary>
internal static class SyntheticTrace
{
    /// <summary>The <c>seed</c> key: any whole number, 1 by default.</summary>
    public static int Seed(SyntheticSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Int("seed", 1, int.MinValue);
    }

    /// <summary>The <c>minutes</c> key, in seconds: how long requests arrive; <paramref name="fallbackMinutes"/> by default.</summary>
    public static double DurationSeconds(SyntheticSpec spec, double fallbackMinutes)
    {
        ArgumentNullException.ThrowIfNull(spec);

        // A day at most: a plan replays thousands of simulated seconds per real one, not millions.
        return spec.Double("minutes", fallbackMinutes, 0, 24 * 60, minExclusive: true) * 60;
    }

    /// <summary>The random source of the arrival times of <paramref name="seed"/>.</summary>
    public static Random Arrivals(int seed) => new(seed);

    /// <summary>A gap of an exponential distribution whose rate is <paramref name="rate"/> per second: the time to a Poisson process's next event.</summary>
    public static double Exponential(Random random, double rate)
    {
        ArgumentNullException.ThrowIfNull(random);

        // 1 − U is in (0, 1], so the logarithm is finite.
        return -Math.Log(1 - random.NextDouble()) / rate;
    }

    /// <summary>Requests arriving at <paramref name="arrivalSeconds"/> (ascending, in seconds), sized by <paramref name="shape"/> from <paramref name="seed"/>'s size source.</summary>
    public static OpenLoopWorkload Build(IReadOnlyList<double> arrivalSeconds, TokenShape shape, int seed)
    {
        ArgumentNullException.ThrowIfNull(arrivalSeconds);
        ArgumentNullException.ThrowIfNull(shape);

        // A different stream from the arrivals', derived from the same seed (the golden ratio's odd constant spreads it).
        var sizes = new Random(unchecked(seed ^ (int)0x9E3779B9));
        var requests = new TraceRequest[arrivalSeconds.Count];
        for (var i = 0; i < requests.Length; i++)
        {
            requests[i] = shape.Draw(sizes, TimeSpan.FromSeconds(arrivalSeconds[i]));
        }

        return new OpenLoopWorkload(requests);
    }
}

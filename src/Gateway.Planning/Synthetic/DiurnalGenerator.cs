namespace Gateway.Planning;

/// <summary>
/// <c>diurnal</c>: open loop whose rate follows a day, compressed into the trace: a sinusoid from <c>trough</c> at the
/// start (night) up to <c>peak</c> half a period later (midday) and back,
/// <c>rate(t) = trough + (peak − trough) × (1 − cos(2πt / period)) / 2</c>. Arrivals are drawn by thinning: candidates
/// of a Poisson process at the peak rate, each kept with probability <c>rate(t) / peak</c>, which gives exactly the
/// non-homogeneous process. Keys and defaults: <c>minutes=30</c>, <c>trough=0.2</c> and <c>peak=2</c> (requests a
/// second), <c>period_minutes</c> = <c>minutes</c> (one day over the trace), <c>seed=1</c>, and the sizes of
/// <see cref="TokenShape.From"/>. At the defaults on-prem (2 slots, about 1.5 s a request) holds the night and
/// overflows to cloud for the middle of the day.
/// </summary>
internal sealed class DiurnalGenerator : ISyntheticGenerator
{
    /// <inheritdoc />
    public string Name => "diurnal";

    /// <inheritdoc />
    public string Help => "open loop following a day compressed into the trace: minutes=30, trough=0.2, peak=2 (req/s), period_minutes=minutes, seed=1, " + SyntheticWorkloads.SizeHelp;

    /// <inheritdoc />
    public Workload Create(SyntheticSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var duration = SyntheticTrace.DurationSeconds(spec, 30);
        var trough = spec.Double("trough", 0.2, 0);
        var peak = spec.Double("peak", 2, Math.Max(trough, 0), minExclusive: trough == 0);
        var period = spec.Double("period_minutes", duration / 60, 0, minExclusive: true) * 60;
        var seed = SyntheticTrace.Seed(spec);
        var shape = TokenShape.From(spec);
        spec.EnsureAllRead();

        var random = SyntheticTrace.Arrivals(seed);
        var arrivals = new List<double>();
        for (var t = SyntheticTrace.Exponential(random, peak); t < duration; t += SyntheticTrace.Exponential(random, peak))
        {
            if (random.NextDouble() * peak < Rate(t, trough, peak, period))
            {
                arrivals.Add(t);
            }
        }

        return SyntheticTrace.Build(arrivals, shape, seed);
    }

    /// <summary>The rate <paramref name="seconds"/> into the trace, in requests a second.</summary>
    public static double Rate(double seconds, double trough, double peak, double periodSeconds) =>
        trough + ((peak - trough) * (1 - Math.Cos(2 * Math.PI * seconds / periodSeconds)) / 2);
}

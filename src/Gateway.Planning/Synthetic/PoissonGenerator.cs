namespace Gateway.Planning;

/// <summary>
/// <c>poisson</c>: open loop at a constant rate, with exponential gaps between arrivals. Keys and defaults:
/// <c>minutes=10</c>, <c>rate=1</c> (requests a second), <c>seed=1</c>, and the sizes of <see cref="TokenShape.From"/>.
/// </summary>
internal sealed class PoissonGenerator : ISyntheticGenerator
{
    /// <inheritdoc />
    public string Name => "poisson";

    /// <inheritdoc />
    public string Help => "open loop at a constant rate: minutes=10, rate=1 (req/s), seed=1, " + SyntheticWorkloads.SizeHelp;

    /// <inheritdoc />
    public Workload Create(SyntheticSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var duration = SyntheticTrace.DurationSeconds(spec, 10);
        var rate = spec.Double("rate", 1, 0, minExclusive: true);
        var seed = SyntheticTrace.Seed(spec);
        var shape = TokenShape.From(spec);
        spec.EnsureAllRead();

        var random = SyntheticTrace.Arrivals(seed);
        var arrivals = new List<double>();
        for (var t = SyntheticTrace.Exponential(random, rate); t < duration; t += SyntheticTrace.Exponential(random, rate))
        {
            arrivals.Add(t);
        }

        return SyntheticTrace.Build(arrivals, shape, seed);
    }
}

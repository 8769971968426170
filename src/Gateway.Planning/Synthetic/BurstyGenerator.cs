namespace Gateway.Planning;

/// <summary>
/// <c>bursty</c>: open loop switching between calm and bursts (a Markov-modulated Poisson process with two states).
/// Calm spells last an exponential time of mean <c>calm_seconds</c> at <c>rate</c>; bursts an exponential time of mean
/// <c>burst_seconds</c> at <c>burst_rate</c> (the whole rate during a burst, not an addition). It starts calm.
/// Keys and defaults: <c>minutes=30</c>, <c>rate=0.8</c>, <c>burst_rate=4</c> (requests a second),
/// <c>burst_seconds=30</c>, <c>calm_seconds=120</c>, <c>seed=1</c>, and the sizes of <see cref="TokenShape.From"/>.
/// </summary>
/// <remarks>
/// The defaults are chosen against the demo fleet (on-prem 1 replica × 2 slots; cloud 0 to 2 replicas × 2; 200 ms to
/// the first token and 30 ms a token, up to 1.5× slower with a full batch), whose requests of the default sizes take
/// about 1.5 s. Calm, 0.8 req/s keeps about 1.2 requests in flight: on-prem holds it but for Poisson clusters that
/// spill now and then. A burst, 4 req/s for half a minute on average, keeps about 6 in flight: on-prem and both cloud
/// replicas, so scaling out and booting matter. Over 30 minutes that is about 12 bursts and 1.44 req/s on average
/// (1.33 with seed 1). With each request timed as if served alone, seed 1 needs a first cloud replica for 449 s of
/// the 1800 and a second for 200 s, and the crests exceed the whole fleet (<see cref="ClairvoyantOracle"/>).
/// </remarks>
internal sealed class BurstyGenerator : ISyntheticGenerator
{
    /// <inheritdoc />
    public string Name => "bursty";

    /// <inheritdoc />
    public string Help => "open loop, calm with bursts: minutes=30, rate=0.8, burst_rate=4 (req/s), burst_seconds=30, calm_seconds=120 (means), seed=1, " + SyntheticWorkloads.SizeHelp;

    /// <inheritdoc />
    public Workload Create(SyntheticSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var duration = SyntheticTrace.DurationSeconds(spec, 30);
        var calmRate = spec.Double("rate", 0.8, 0);
        var burstRate = spec.Double("burst_rate", 4, 0);
        var burstSeconds = spec.Double("burst_seconds", 30, 0, minExclusive: true);
        var calmSeconds = spec.Double("calm_seconds", 120, 0, minExclusive: true);
        var seed = SyntheticTrace.Seed(spec);
        var shape = TokenShape.From(spec);
        spec.EnsureAllRead();

        var random = SyntheticTrace.Arrivals(seed);
        var arrivals = new List<double>();
        var t = 0.0;
        var bursting = false;
        var switchAt = SyntheticTrace.Exponential(random, 1 / calmSeconds);
        while (t < duration)
        {
            var rate = bursting ? burstRate : calmRate;
            var next = rate > 0 ? t + SyntheticTrace.Exponential(random, rate) : double.PositiveInfinity;
            if (next < switchAt)
            {
                if (next >= duration)
                {
                    break;
                }

                arrivals.Add(next);
                t = next;
            }
            else
            {
                // The gap is memoryless, so the one drawn past the switch is dropped and the next state draws afresh.
                t = switchAt;
                bursting = !bursting;
                switchAt = t + SyntheticTrace.Exponential(random, 1 / (bursting ? burstSeconds : calmSeconds));
            }
        }

        return SyntheticTrace.Build(arrivals, shape, seed);
    }
}

namespace Gateway.LoadTests.Drills;

/// <summary>
/// The same peak several times, one gateway after the other, so the split and the cloud bill sit side by side:
/// <c>spillover</c> is the service as configured with <c>SpillOver</c> (on-prem first); <c>roundrobin</c> the same with
/// <c>RoundRobin</c> (every ready replica in turn); <c>seed</c> the seed's baseline, a blind round-robin split (its
/// Kubernetes Service) scaled the way its HPA did, expressed through the gateway's own knobs (see <see cref="SeedSide"/>).
/// Cloud replica-seconds are counted on every side from the load's start until the cloud pool is back at its minimum.
/// </summary>
internal static class CompareDrill
{
    public const string SpillOverSide = "spillover";
    public const string RoundRobinSide = "roundrobin";
    public const string SeedSide = "seed";

    /// <summary>The seed's HPA: target 50 % utilisation, a 15 s sync loop, the default 300 s scale-down stabilisation.</summary>
    public const double SeedTargetUtilization = 0.5;
    public const double SeedScaleOutWindowSeconds = 15;
    public const double SeedScaleInStabilizationSeconds = 300;

    /// <summary>The short seed side keeps the HPA's order (slower out, far slower in than the demo's short 0.5 s / 2 s) in CI's budget.</summary>
    public const double ShortSeedScaleOutWindowSeconds = 1.5;
    public const double ShortSeedScaleInStabilizationSeconds = 4;

    public const string CostSpan = "from the load's start until the cloud pool is back at its minimum, on every side";

    public static readonly IReadOnlyList<string> SideNames = [SpillOverSide, RoundRobinSide, SeedSide];

    /// <summary>The seed side's settling: its scale-in waits 300 s after the load, so the default 3 min would cut its cost short.</summary>
    private static readonly TimeSpan SeedSettleTimeout = TimeSpan.FromMinutes(7);

    public static async Task<CompareResult> RunAsync(DrillOptions options, CancellationToken cancellationToken)
    {
        var configPath = options.ConfigPath ?? Repository.DemoConfigPath;
        var (seedOut, seedIn) = options.Short
            ? (ShortSeedScaleOutWindowSeconds, ShortSeedScaleInStabilizationSeconds)
            : (SeedScaleOutWindowSeconds, SeedScaleInStabilizationSeconds);
        PeakResult? spillOver = null, roundRobin = null, seed = null;
        var scaling = new Dictionary<string, string>();
        foreach (var side in options.Sides ?? SideNames)
        {
            switch (side)
            {
                case SpillOverSide:
                    spillOver = await PeakDrill.RunAsync(options, Repository.ServiceOverrides(configPath, "Balancing", "SpillOver"), "SpillOver", cancellationToken);
                    scaling[side] = "as configured";
                    break;
                case RoundRobinSide:
                    roundRobin = await PeakDrill.RunAsync(options, Repository.ServiceOverrides(configPath, "Balancing", "RoundRobin"), "RoundRobin", cancellationToken);
                    scaling[side] = "as configured";
                    break;
                default:
                    List<string> overrides =
                    [
                        .. Repository.ServiceOverrides(configPath, "Balancing", "RoundRobin"),
                        .. Repository.ServiceOverrides(configPath, "TargetUtilization", SeedTargetUtilization.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                        .. Repository.ScalingWindowOverrides(configPath, seedOut, seedIn),
                    ];
                    var seedOptions = options.Short ? options : options with { SettleTimeout = options.SettleTimeout ?? SeedSettleTimeout };
                    seed = await PeakDrill.RunAsync(seedOptions, overrides, "seed", cancellationToken);
                    scaling[side] = FormattableString.Invariant(
                        $"HPA-like: TargetUtilization {SeedTargetUtilization}, ScaleOutWindowSeconds {seedOut}, ScaleInStabilizationSeconds {seedIn}");
                    break;
            }
        }

        return new CompareResult(options.Sides ?? SideNames, scaling, CostSpan, spillOver, roundRobin, seed);
    }
}

/// <summary>
/// The sides of a compare run under the same peak (null for a side not run), the scaling each side ran with, and over
/// which span cloud replica-seconds are counted.
/// </summary>
internal sealed record CompareResult(
    IReadOnlyList<string> Sides,
    IReadOnlyDictionary<string, string> Scaling,
    string CloudReplicaSecondsSpan,
    PeakResult? SpillOver,
    PeakResult? RoundRobin,
    PeakResult? Seed);

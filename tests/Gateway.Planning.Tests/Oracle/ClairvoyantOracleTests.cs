namespace Gateway.Planning.Tests.Oracle;

/// <summary>
/// The oracle on traces small enough to cost by hand. Each expectation is worked in its test's comment:
/// levels are where needed(t) ≥ k, each paid its busy seconds, one boot, and min(gap, boot) per gap.
/// </summary>
public sealed class ClairvoyantOracleTests
{
    [Fact]
    public void Compute_OneRequestBeyondOnPrem_PaysItsLengthAndOneBoot()
    {
        // [10, 20) with no on-prem slot: level 1 busy 10 s, booted once for 5 s.
        var result = ClairvoyantOracle.Compute([new(10, 20)], new OracleFleet(0, 1, 5));

        Assert.Equal(15, result.ReplicaSeconds);
        Assert.Equal([new OracleLevel(1, 10, 1, 5, 0)], result.Levels);
        Assert.Equal(1, result.PeakReplicas);
        Assert.Equal(0, result.UnservedReplicaSeconds);
        Assert.Equal(0, result.UnservedRequestSeconds);
    }

    [Fact]
    public void Compute_RequestsThatFitOnPrem_NeedNoCloud()
    {
        var result = ClairvoyantOracle.Compute([new(0, 10), new(5, 15)], new OracleFleet(2, 2, 30));

        Assert.Equal(0, result.ReplicaSeconds);
        Assert.Empty(result.Levels);
        Assert.Equal(0, result.PeakReplicas);
    }

    [Fact]
    public void Compute_OverlappingRequests_PayEachLevelSeparately()
    {
        // On-prem 1 slot. Concurrency: [0,5) 1, [5,8) 2, [8,10) 3, [10,12) 2, [12,15) 1.
        // Level 1 needed over [5, 12): 7 s; level 2 over [8, 10): 2 s; each booted once for 2 s. 7 + 2 + 2 + 2 = 13.
        var result = ClairvoyantOracle.Compute([new(0, 10), new(5, 15), new(8, 12)], new OracleFleet(1, 1, 2));

        Assert.Equal(13, result.ReplicaSeconds);
        Assert.Equal([new OracleLevel(1, 7, 1, 2, 0), new OracleLevel(2, 2, 1, 2, 0)], result.Levels);
        Assert.Equal(2, result.PeakReplicas);
    }

    [Fact]
    public void Compute_GapShorterThanABoot_KeepsTheReplicaOverIt()
    {
        // [0,10) and [13,20), boot 5: stopping over the 3 s gap would cost a 5 s boot, so the gap is paid.
        // 10 + 7 busy + 5 boot + 3 bridged = 25.
        var result = ClairvoyantOracle.Compute([new(0, 10), new(13, 20)], new OracleFleet(0, 1, 5));

        Assert.Equal(25, result.ReplicaSeconds);
        Assert.Equal([new OracleLevel(1, 17, 1, 5, 3)], result.Levels);
    }

    [Fact]
    public void Compute_GapLongerThanABoot_StopsAndBootsAgain()
    {
        // [0,10) and [20,30), boot 5: the 10 s gap costs more than a second boot. 20 busy + 2 × 5 boot = 30.
        var result = ClairvoyantOracle.Compute([new(0, 10), new(20, 30)], new OracleFleet(0, 1, 5));

        Assert.Equal(30, result.ReplicaSeconds);
        Assert.Equal([new OracleLevel(1, 20, 2, 10, 0)], result.Levels);
    }

    [Fact]
    public void Compute_GapExactlyABoot_CostsTheSameEitherWay_CountedAsAStop()
    {
        // [0,10) and [15,20), boot 5: bridging (5) or booting again (5) cost alike; 15 busy + 2 × 5 = 25.
        var result = ClairvoyantOracle.Compute([new(0, 10), new(15, 20)], new OracleFleet(0, 1, 5));

        Assert.Equal(25, result.ReplicaSeconds);
        Assert.Equal([new OracleLevel(1, 15, 2, 10, 0)], result.Levels);
    }

    [Fact]
    public void Compute_RequestEndingAsAnotherArrives_IsOneIntervalWithoutAGap()
    {
        // [0,5) then [5,10): one slot throughout, so one boot of 3 and 10 busy.
        var result = ClairvoyantOracle.Compute([new(5, 10), new(0, 5)], new OracleFleet(0, 1, 3));

        Assert.Equal([new OracleLevel(1, 10, 1, 3, 0)], result.Levels);
    }

    [Fact]
    public void Compute_HandOverAtOneInstantOnPrem_NeedsNoCloud()
    {
        // The end at 5 frees on-prem's slot for the arrival at 5: never two at once.
        var result = ClairvoyantOracle.Compute([new(5, 10), new(0, 5)], new OracleFleet(1, 1, 3));

        Assert.Empty(result.Levels);
    }

    [Fact]
    public void Compute_TwoSlotsPerReplica_RoundsOverflowUpToWholeReplicas()
    {
        // On-prem 2, replicas of 2, boot 1. Three requests over [0,10) and two more over [2,6):
        // overflow 1, 3, 1 → needed 1, 2, 1. Level 1: 10 s; level 2: [2,6) 4 s. 10 + 4 + 2 boots = 16.
        DemandInterval[] requests = [new(0, 10), new(0, 10), new(0, 10), new(2, 6), new(2, 6)];

        var result = ClairvoyantOracle.Compute(requests, new OracleFleet(2, 2, 1));

        Assert.Equal(16, result.ReplicaSeconds);
        Assert.Equal([new OracleLevel(1, 10, 1, 1, 0), new OracleLevel(2, 4, 1, 1, 0)], result.Levels);
    }

    [Fact]
    public void Compute_MaxReplicas_LeavesTheLevelsAboveItUnserved()
    {
        // As above with at most 1 cloud replica: level 1 paid (11), level 2's 4 s unserved. Slots served: 2 + 1 × 2 = 4;
        // over [2,6) 5 requests run, 1 too many for 4 s: 4 request-seconds unserved.
        DemandInterval[] requests = [new(0, 10), new(0, 10), new(0, 10), new(2, 6), new(2, 6)];

        var result = ClairvoyantOracle.Compute(requests, new OracleFleet(2, 2, 1, MaxReplicas: 1));

        Assert.Equal(11, result.ReplicaSeconds);
        Assert.Equal([new OracleLevel(1, 10, 1, 1, 0)], result.Levels);
        Assert.Equal(4, result.UnservedReplicaSeconds);
        Assert.Equal(4, result.UnservedRequestSeconds);
        Assert.Equal(2, result.PeakReplicas);
    }

    [Fact]
    public void Compute_NoCloudAllowed_LeavesEverythingBeyondOnPremUnserved()
    {
        // Overflow beyond on-prem's 2: 1 × 2 s + 3 × 4 s + 1 × 4 s = 18 request-seconds; levels 10 + 4 = 14 s.
        DemandInterval[] requests = [new(0, 10), new(0, 10), new(0, 10), new(2, 6), new(2, 6)];

        var result = ClairvoyantOracle.Compute(requests, new OracleFleet(2, 2, 1, MaxReplicas: 0));

        Assert.Equal(0, result.ReplicaSeconds);
        Assert.Empty(result.Levels);
        Assert.Equal(14, result.UnservedReplicaSeconds);
        Assert.Equal(18, result.UnservedRequestSeconds);
    }

    [Fact]
    public void Compute_UpperLevelGap_IsBridgedOnItsOwn()
    {
        // Boot 4. Level 1: [0,20), 20 + 4. Level 2: [2,6) and [8,12), gap 2 < 4 bridged: 8 + 4 + 2 = 14. Total 38.
        var result = ClairvoyantOracle.Compute([new(0, 20), new(2, 6), new(8, 12)], new OracleFleet(0, 1, 4));

        Assert.Equal(38, result.ReplicaSeconds);
        Assert.Equal([new OracleLevel(1, 20, 1, 4, 0), new OracleLevel(2, 8, 1, 4, 2)], result.Levels);
    }

    [Fact]
    public void Compute_NoBootTime_StopsOverEveryGap()
    {
        var result = ClairvoyantOracle.Compute([new(0, 1), new(1.5, 2)], new OracleFleet(0, 1, 0));

        Assert.Equal(1.5, result.ReplicaSeconds);
        Assert.Equal([new OracleLevel(1, 1.5, 2, 0, 0)], result.Levels);
    }

    [Fact]
    public void Compute_EmptyIntervalsAndOrder_ChangeNothing()
    {
        DemandInterval[] sorted = [new(0, 10), new(5, 15), new(8, 12)];
        DemandInterval[] shuffled = [new(8, 12), new(3, 3), new(0, 10), new(5, 15)];
        var fleet = new OracleFleet(1, 1, 2);

        Assert.Equal(ClairvoyantOracle.Compute(sorted, fleet).Levels, ClairvoyantOracle.Compute(shuffled, fleet).Levels);
    }

    [Fact]
    public void Compute_NoRequests_CostsNothing()
    {
        var result = ClairvoyantOracle.Compute([], new OracleFleet(2, 2, 5));

        Assert.Equal((0.0, 0, 0.0, 0.0, 0), (result.ReplicaSeconds, result.Levels.Count, result.UnservedReplicaSeconds, result.UnservedRequestSeconds, result.PeakReplicas));
    }

    [Theory]
    [InlineData(5, 1)]
    [InlineData(double.NaN, 1)]
    [InlineData(0, double.PositiveInfinity)]
    public void Compute_BadInterval_NamesTheRequest(double start, double end)
    {
        var e = Assert.Throws<ArgumentException>(() => ClairvoyantOracle.Compute([new(0, 1), new(start, end)], new OracleFleet(0, 1, 1)));

        Assert.StartsWith("request 1 occupies", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_BadFleet_NamesTheFigure()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ClairvoyantOracle.Compute([], new OracleFleet(0, 1, -1)));

        Assert.Equal("BootSeconds", e.ParamName);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(2, 0)]
    [InlineData(3, 1)]
    [InlineData(4, 1)]
    [InlineData(5, 2)]
    public void Needed_OverflowBeyondOnPrem_InWholeReplicasOfTwoSlots(long concurrent, int expected)
    {
        Assert.Equal(expected, ClairvoyantOracle.Needed(concurrent, new OracleFleet(2, 2, 0)));
    }

    [Fact]
    public void Compute_ManyRequests_MatchesAStepByStepCount()
    {
        // A brute force over a 0.5 s grid: intervals on the grid, so each cell's concurrency is exact.
        var random = new Random(3);
        var requests = new DemandInterval[400];
        for (var i = 0; i < requests.Length; i++)
        {
            var start = random.Next(0, 2000) / 2.0;
            requests[i] = new(start, start + (random.Next(1, 40) / 2.0));
        }

        var fleet = new OracleFleet(2, 2, 7.5);
        var result = ClairvoyantOracle.Compute(requests, fleet);

        Assert.Equal(BruteForce(requests, fleet, cell: 0.5), result.ReplicaSeconds, precision: 9);
    }

    // Per level, walk the grid: pay busy cells, a boot at the first, and min(gap, boot) at each later start.
    private static double BruteForce(DemandInterval[] requests, OracleFleet fleet, double cell)
    {
        var cells = (int)(requests.Max(r => r.End) / cell) + 1;
        var needed = new int[cells];
        for (var c = 0; c < cells; c++)
        {
            var t = (c * cell) + (cell / 2);
            needed[c] = ClairvoyantOracle.Needed(requests.Count(r => r.Start <= t && t < r.End), fleet);
        }

        var total = 0.0;
        for (var level = 1; level <= needed.Max(); level++)
        {
            double? lastEnd = null;
            for (var c = 0; c < cells; c++)
            {
                if (needed[c] < level)
                {
                    continue;
                }

                var start = c * cell;
                if (lastEnd is null)
                {
                    total += fleet.BootSeconds;
                }
                else if (start > lastEnd)
                {
                    total += Math.Min(start - lastEnd.Value, fleet.BootSeconds);
                }

                total += cell;
                lastEnd = start + cell;
            }
        }

        return total;
    }
}

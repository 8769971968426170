namespace Gateway.Planning;

/// <summary>
/// The fewest cloud replica-seconds any scaler could pay for a trace: one that knows every request in advance, boots
/// each replica exactly <see cref="OracleFleet.BootSeconds"/> before it is first needed and stops it the moment it is
/// no longer needed, paying for boots as for serving. The policies a plan compares are shown as ratios to it.
/// </summary>
/// <remarks>
/// <para>
/// Demand is what a fleet of unlimited, always-ready capacity would serve: <c>concurrent(t)</c>, the requests whose
/// <see cref="DemandInterval"/> holds <c>t</c>. On-prem takes what it can, so the cloud replicas needed at <c>t</c> are
/// <c>needed(t) = ceil(max(0, concurrent(t) − onPremSlots) / slotsPerReplica)</c>.
/// </para>
/// <para>
/// Replicas are alike, so the cost splits by level: the <c>k</c>-th replica must serve wherever <c>needed(t) ≥ k</c>,
/// a set of disjoint intervals. It pays each interval's length, one boot before the first, and for each gap between
/// two intervals the cheaper of keeping it running (the gap) and stopping it and booting it again (the boot time);
/// a gap exactly a boot long is counted as a stop. Levels above <see cref="OracleFleet.MaxReplicas"/> are not
/// served: their seconds are reported as unserved instead of paid.
/// </para>
/// <para>
/// No scaler pays less at any level, so none pays less in all: let <c>P(t)</c> be the replicas paid for (booting or
/// ready) at <c>t</c>, whose integral is the sum over <c>k</c> of how long <c>P ≥ k</c>. That set holds every time
/// level <c>k</c> is needed. Across a gap between two such intervals it either holds the whole gap, or it drops
/// below <c>k</c> at some <c>τ</c> in the gap; then a replica not paid for at <c>τ</c> is ready at the gap's end
/// <c>s</c>, so it booted from <c>s − B</c> at the latest, and <c>P ≥ k</c> over <c>(τ, s)</c>, at least a boot long.
/// The same holds before the first interval. So each level costs at least what is charged here, and booting replica
/// <c>k</c> for level <c>k</c> alone pays exactly that.
/// </para>
/// <para>
/// One sweep over the sorted arrivals and ends: O(n log n) for n requests. Each arrival or end moves
/// <c>needed</c> by at most one, so opening and closing levels costs O(n) in all.
/// </para>
/// </remarks>
internal static class ClairvoyantOracle
{
    /// <summary>The oracle's cost of serving <paramref name="requests"/> on <paramref name="fleet"/>.</summary>
    /// <param name="requests">Each request's slot occupancy, in any order; empty intervals occupy nothing.</param>
    /// <param name="fleet">On-prem's slots, the cloud replicas' slots, boot time and maximum.</param>
    /// <exception cref="ArgumentException">An interval is not finite or ends before it starts.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A figure of <paramref name="fleet"/> is out of range.</exception>
    public static OracleResult Compute(IReadOnlyList<DemandInterval> requests, OracleFleet fleet)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(fleet);
        fleet.Validate();

        var events = new List<Change>(requests.Count * 2);
        for (var i = 0; i < requests.Count; i++)
        {
            var (start, end) = requests[i];
            if (!double.IsFinite(start) || !double.IsFinite(end) || end < start)
            {
                throw new ArgumentException($"request {i} occupies [{start}, {end}): an interval must be finite and end at or after its start", nameof(requests));
            }

            if (end > start)
            {
                events.Add(new Change(start, +1));
                events.Add(new Change(end, -1));
            }
        }

        events.Sort();

        // Requests beyond these wait or are turned away whatever a scaler does.
        var servedSlots = fleet.MaxReplicas is { } max ? fleet.OnPremSlots + ((long)max * fleet.SlotsPerReplica) : long.MaxValue;
        var levels = new List<LevelCost>();
        var concurrent = 0L;
        var needed = 0;
        var unservedRequestSeconds = 0.0;
        var previous = 0.0;
        var next = 0;
        while (next < events.Count)
        {
            // Every change at one instant is applied before needed is read, so an end and an arrival at the same
            // time do not open and close a level for no time at all.
            var at = events[next].At;
            unservedRequestSeconds += Math.Max(0, concurrent - servedSlots) * (at - previous);
            while (next < events.Count && events[next].At == at)
            {
                concurrent += events[next].Delta;
                next++;
            }

            var now = Needed(concurrent, fleet);
            for (var level = needed + 1; level <= now; level++)
            {
                if (level > levels.Count)
                {
                    levels.Add(new LevelCost(at));
                }
                else
                {
                    levels[level - 1].Open(at, fleet.BootSeconds);
                }
            }

            for (var level = needed; level > now; level--)
            {
                levels[level - 1].Close(at);
            }

            needed = now;
            previous = at;
        }

        var served = Math.Min(levels.Count, fleet.MaxReplicas ?? int.MaxValue);
        var result = new OracleLevel[served];
        var replicaSeconds = 0.0;
        for (var i = 0; i < served; i++)
        {
            result[i] = levels[i].ToLevel(i + 1, fleet.BootSeconds);
            replicaSeconds += result[i].ReplicaSeconds;
        }

        var unservedReplicaSeconds = 0.0;
        for (var i = served; i < levels.Count; i++)
        {
            unservedReplicaSeconds += levels[i].BusySeconds;
        }

        return new OracleResult(replicaSeconds, result, unservedReplicaSeconds, unservedRequestSeconds, levels.Count);
    }

    /// <summary>Cloud replicas needed with <paramref name="concurrent"/> requests under way: those on-prem cannot hold, a replica's slots at a time.</summary>
    public static int Needed(long concurrent, OracleFleet fleet)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        var overflow = concurrent - fleet.OnPremSlots;
        return overflow <= 0 ? 0 : (int)((overflow + fleet.SlotsPerReplica - 1) / fleet.SlotsPerReplica);
    }

    /// <summary>An arrival (+1) or an end (−1); at one instant, ends sort first, though all of an instant's changes are applied together.</summary>
    private readonly record struct Change(double At, int Delta) : IComparable<Change>
    {
        public int CompareTo(Change other)
        {
            var byTime = At.CompareTo(other.At);
            return byTime != 0 ? byTime : Delta.CompareTo(other.Delta);
        }
    }

    /// <summary>One level's account while the sweep is under way: created when the level is first needed, with its first boot.</summary>
    private sealed class LevelCost
    {
        private double _openedAt;
        private double _closedAt;

        public LevelCost(double openedAt)
        {
            _openedAt = openedAt;
            Boots = 1;
        }

        public int Boots { get; private set; }

        public double BusySeconds { get; private set; }

        public double BridgedSeconds { get; private set; }

        /// <summary>The level is needed again: keep it over the gap if that is cheaper than a boot, or boot it again.</summary>
        public void Open(double at, double bootSeconds)
        {
            var gap = at - _closedAt;
            if (gap < bootSeconds)
            {
                BridgedSeconds += gap;
            }
            else
            {
                Boots++;
            }

            _openedAt = at;
        }

        /// <summary>The level is no longer needed.</summary>
        public void Close(double at)
        {
            BusySeconds += at - _openedAt;
            _closedAt = at;
        }

        public OracleLevel ToLevel(int level, double bootSeconds) => new(level, BusySeconds, Boots, Boots * bootSeconds, BridgedSeconds);
    }
}

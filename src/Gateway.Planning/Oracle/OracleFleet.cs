namespace Gateway.Planning;

/// <summary>The fleet the oracle buys cloud capacity for.</summary>
/// <param name="OnPremSlots">Requests the on-prem replicas serve at once, all of them together (1 replica × 2 in the demo).</param>
/// <param name="SlotsPerReplica">Requests one cloud replica serves at once (2 in the demo).</param>
/// <param name="BootSeconds">How long a cloud replica takes from being asked for to serving; paid for like serving time.</param>
/// <param name="MaxReplicas">The most cloud replicas allowed; null: no limit.</param>
internal sealed record OracleFleet(int OnPremSlots, int SlotsPerReplica, double BootSeconds, int? MaxReplicas = null)
{
    /// <summary>Throws when a figure is out of range, naming it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative slot count or boot time, a replica of no slots, or a negative maximum.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(OnPremSlots);
        ArgumentOutOfRangeException.ThrowIfLessThan(SlotsPerReplica, 1);
        if (!double.IsFinite(BootSeconds) || BootSeconds < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BootSeconds), BootSeconds, "the boot time must be a finite number of seconds, 0 or more");
        }

        if (MaxReplicas is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxReplicas), MaxReplicas, "the maximum must be 0 or more");
        }
    }
}

using Gateway.Configuration;

namespace Gateway.Balancing;

/// <summary>The placement policy a service's configuration names.</summary>
internal static class PlacementPolicies
{
    /// <summary>
    /// A new policy for one service; <paramref name="random"/> breaks ties between equally loaded replicas, and
    /// <paramref name="slots"/> says how many of a replica's slots each class may fill (all of them when null).
    /// </summary>
    public static IPlacementPolicy Create(BalancingMode mode, Random random, ClassSlots? slots = null) => mode switch
    {
        BalancingMode.RoundRobin => new RoundRobinPlacement(slots ?? ClassSlots.Every),
        _ => new SpillOverPlacement(random, slots ?? ClassSlots.Every),
    };
}

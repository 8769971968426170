using Gateway.Configuration;

namespace Gateway.Balancing;

/// <summary>The placement policy a service's configuration names.</summary>
internal static class PlacementPolicies
{
    /// <summary>A new policy for one service; <paramref name="random"/> breaks ties between equally loaded replicas.</summary>
    public static IPlacementPolicy Create(BalancingMode mode, Random random) => mode switch
    {
        BalancingMode.RoundRobin => new RoundRobinPlacement(),
        _ => new SpillOverPlacement(random),
    };
}

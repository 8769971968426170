using Gateway.Configuration;
using Gateway.Model;

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

    /// <summary>
    /// Whether a request of <paramref name="tenant"/> may be placed on <paramref name="pool"/> of <paramref name="service"/>
    /// by a policy: the tenant may run there, it is no bridge (those take only requests kept waiting), and it is no
    /// provider while the service's budget is spent.
    /// </summary>
    public static bool MayPlace(InferenceService service, Pool pool, Tenant tenant) =>
        tenant.MayRunOn(pool) && pool.Role != PoolRole.Bridge && !(pool.IsProvider && service.BudgetSpent);
}

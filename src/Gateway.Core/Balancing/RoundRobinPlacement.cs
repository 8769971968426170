using Gateway.Model;

namespace Gateway.Balancing;

/// <summary>
/// Every ready replica in turn, whatever its pool, as a plain Kubernetes Service spreads requests. It is the
/// baseline spill-over is measured against; it still never puts more on a replica than its capacity, nor a request on
/// a pool its tenant may not run on, nor past the slots its class may fill (<see cref="ClassSlots"/>).
/// </summary>
internal sealed class RoundRobinPlacement(ClassSlots slots) : IPlacementPolicy
{
    private uint _next;

    public string Name => "RoundRobin";

    public Replica? TryReserve(InferenceService service, Tenant tenant, Replica? avoid = null)
    {
        var pools = service.Pools;
        var total = 0;
        for (var p = 0; p < pools.Count; p++)
        {
            total += pools[p].Snapshot.Length;
        }

        if (total == 0)
        {
            return null;
        }

        var start = (int)(Interlocked.Increment(ref _next) % (uint)total);
        for (var i = 0; i < total; i++)
        {
            var replica = At(pools, (start + i) % total);
            if (replica is not null && !ReferenceEquals(replica, avoid) && PlacementPolicies.MayPlace(service, replica.Pool, tenant)
                && replica.TryReserve(slots.For(tenant.Priority, replica.Capacity)))
            {
                return replica;
            }
        }

        return null;
    }

    private static Replica? At(IReadOnlyList<Pool> pools, int index)
    {
        for (var p = 0; p < pools.Count; p++)
        {
            var replicas = pools[p].Snapshot;
            if (index < replicas.Length)
            {
                return replicas[index];
            }

            index -= replicas.Length;
        }

        return null;
    }
}

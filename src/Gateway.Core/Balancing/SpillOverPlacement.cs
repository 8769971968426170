using Gateway.Model;

namespace Gateway.Balancing;

/// <summary>
/// Tiered spill-over: the highest-priority pool with a free slot takes the request, so cloud replicas see
/// only what on-prem replicas cannot take. Inside a pool the least loaded replica (in flight / capacity)
/// wins; ties go to one of them at random so equal replicas share the work. Pools the tenant may not run on are
/// passed over: an on-prem-only tenant's request waits for on-prem room rather than spill. A replica counts as full for
/// a request once its class's slots there (<see cref="ClassSlots"/>) are in flight. Hosted APIs come after every GPU
/// pool: an overflow provider as a last tier, a bridge never here (see <see cref="IPlacementPolicy.TryReserveBridge"/>).
/// </summary>
internal sealed class SpillOverPlacement(Random random, ClassSlots slots) : IPlacementPolicy
{
    public string Name => "SpillOver";

    public Replica? TryReserve(InferenceService service, Tenant tenant, Replica? avoid = null)
    {
        var pools = service.Pools;
        for (var p = 0; p < pools.Count; p++)
        {
            if (!PlacementPolicies.MayPlace(service, pools[p], tenant))
            {
                continue;
            }

            var replica = TryReserveIn(pools[p], slots.For(tenant.Priority, pools[p].CapacityPerReplica), avoid, random);
            if (replica is not null)
            {
                return replica;
            }
        }

        return null;
    }

    /// <summary>A slot on the least loaded available replica of <paramref name="pool"/> with fewer than <paramref name="limit"/> in flight, ties broken at random.</summary>
    internal static Replica? TryReserveIn(Pool pool, int limit, Replica? avoid, Random random)
    {
        var replicas = pool.Snapshot;

        // A reservation can lose a race with another request; rescan, since the loser may still find room.
        for (var attempt = 0; attempt < replicas.Length + 1; attempt++)
        {
            Replica? best = null;
            var bestLoad = double.MaxValue;
            var ties = 0;
            foreach (var replica in replicas)
            {
                if (!replica.IsAvailable || ReferenceEquals(replica, avoid))
                {
                    continue;
                }

                var inFlight = replica.EffectiveInFlight;
                if (inFlight >= limit)
                {
                    continue;
                }

                var load = (double)inFlight / replica.Capacity;
                if (load < bestLoad)
                {
                    best = replica;
                    bestLoad = load;
                    ties = 1;
                }
                else if (load == bestLoad && random.Next(++ties) == 0)
                {
                    best = replica;
                }
            }

            if (best is null)
            {
                return null;
            }

            if (best.TryReserve(limit))
            {
                return best;
            }
        }

        return null;
    }
}

using Gateway.Model;

namespace Gateway.Balancing;

/// <summary>Chooses the replica a request goes to and reserves a slot on it in the same step.</summary>
internal interface IPlacementPolicy
{
    /// <summary>The name configuration chooses the policy by.</summary>
    string Name { get; }

    /// <summary>
    /// A replica with a slot now reserved for a request of <paramref name="tenant"/>, or null when every ready replica it
    /// may run on is full: only pools the tenant <see cref="Tenant.MayRunOn">may run on</see> are considered (an
    /// on-prem-only tenant never gets a cloud replica). <paramref name="avoid"/> is a replica that just failed this
    /// request, skipped on a retry.
    /// </summary>
    Replica? TryReserve(InferenceService service, Tenant tenant, Replica? avoid = null);

    /// <summary>
    /// A slot reserved on one of the service's <see cref="InferenceService.Bridges"/> for a request of
    /// <paramref name="tenant"/> that has <paramref name="waited"/> in the queue: only on a bridge whose
    /// <see cref="Configuration.BridgeOptions.MaxQueueWaitMs"/> that wait has reached, the least loaded first; null when none
    /// may take it. The caller checks <see cref="InferenceService.BridgeOpen"/>.
    /// </summary>
    Replica? TryReserveBridge(InferenceService service, Tenant tenant, TimeSpan waited, Replica? avoid = null)
    {
        foreach (var bridge in service.Bridges)
        {
            if (waited.TotalMilliseconds >= bridge.Options.Bridge.MaxQueueWaitMs && tenant.MayRunOn(bridge)
                && SpillOverPlacement.TryReserveIn(bridge, bridge.CapacityPerReplica, avoid, Random.Shared) is { } replica)
            {
                return replica;
            }
        }

        return null;
    }
}

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
}

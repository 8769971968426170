using Gateway.Model;

namespace Gateway.Balancing;

/// <summary>Chooses the replica a request goes to and reserves a slot on it in the same step.</summary>
internal interface IPlacementPolicy
{
    /// <summary>The name configuration chooses the policy by.</summary>
    string Name { get; }

    /// <summary>
    /// A replica with a slot now reserved for the caller, or null when every ready replica is full.
    /// <paramref name="avoid"/> is a replica that just failed this request, skipped on a retry.
    /// </summary>
    Replica? TryReserve(InferenceService service, Replica? avoid = null);
}

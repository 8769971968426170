using Gateway.Model;

namespace Gateway.Providers;

/// <summary>
/// Grows and shrinks one elastic pool for the scale controller: local processes, a Kubernetes scale
/// target, a webhook. The replicas it asks for reach the pool through the pool's replica provider (at once as
/// provisioning, or later when a node has booted); the controller counts what it asked for until they arrive.
/// </summary>
public interface IPoolScaler
{
    /// <summary>
    /// Asks for the pool to have <see cref="ScaleRequest.DesiredReplicas"/> replicas where it has
    /// <see cref="ScaleRequest.CurrentReplicas"/>. Asking twice for the same count must not add twice.
    /// </summary>
    Task ScaleOutAsync(ScaleRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Takes away <paramref name="replica"/>, which has drained (or whose drain timeout has passed), leaving the pool
    /// at <see cref="ScaleRequest.DesiredReplicas"/>. Returns once the replica is on its way out.
    /// </summary>
    Task ScaleInAsync(Replica replica, ScaleRequest request, CancellationToken cancellationToken);
}

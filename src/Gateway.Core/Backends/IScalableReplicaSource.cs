namespace Gateway.Backends;

/// <summary>
/// A replica source that can grow and shrink its pool on demand, for an elastic pool's scale controller. A
/// source of fixed addresses is not one: it cannot make a server appear.
/// </summary>
internal interface IScalableReplicaSource : IReplicaSource
{
    /// <summary>
    /// Starts <paramref name="count"/> more replicas; returns once each is in the pool as provisioning (or its
    /// launch failed and a retry is scheduled). Readiness follows in the background.
    /// </summary>
    Task AddReplicasAsync(int count, CancellationToken cancellationToken);

    /// <summary>
    /// Stops <paramref name="replica"/> (SIGTERM, then a kill after the stop timeout), takes it out of the pool and
    /// does not replace it. Returns once it is gone; a replica the source no longer runs is a no-op.
    /// </summary>
    Task RemoveReplicaAsync(Replica replica, CancellationToken cancellationToken);
}

using Gateway.Model;

namespace Gateway.Providers;

/// <summary>
/// Where a pool's replicas come from: fixed addresses, local processes, later Kubernetes. A source adds
/// replicas to its pool, moves them to ready when they can serve, and removes them when they are gone.
/// </summary>
internal interface IReplicaSource
{
    /// <summary>The pool the source fills.</summary>
    Pool Pool { get; }

    /// <summary>Brings up the pool's replicas; returns once they are started (not necessarily ready).</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Stops every replica the source started; nothing it started outlives this call.</summary>
    Task StopAsync(CancellationToken cancellationToken);
}

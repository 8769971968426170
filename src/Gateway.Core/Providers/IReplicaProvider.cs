using Gateway.Model;

namespace Gateway.Providers;

/// <summary>
/// Where one pool's replicas come from: fixed addresses, local processes, a webhook's servers, a cluster's pods. A
/// provider adds replicas to its pool, moves them to ready when they can serve and removes them when they are gone.
/// It is made by the <see cref="IReplicaProviderFactory"/> of its kind. What only some providers can do is a member
/// with a default, so that nothing needs to ask a provider what it is.
/// </summary>
public interface IReplicaProvider
{
    /// <summary>The pool the provider fills.</summary>
    Pool Pool { get; }

    /// <summary>
    /// False until a provider that learns its replicas from elsewhere (a cluster's API) has listed them once: until
    /// then an empty pool means "not known yet" rather than "none", and the gateway is not ready. It stays true when
    /// the provider later loses contact. A provider that starts its own replicas knows them from the start.
    /// </summary>
    bool HasDiscovered => true;

    /// <summary>How the pool is grown and shrunk, or null when the provider cannot change its count.</summary>
    IPoolScaler? Scaler => null;

    /// <summary>Brings up the pool's replicas; returns once they are started (not necessarily ready).</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Stops every replica the provider started; nothing it started outlives this call.</summary>
    Task StopAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Keeps <paramref name="replica"/>, which the scale controller drained and gave back, out of rotation (and out of
    /// the controller's count) until it is really gone, however ready it still looks meanwhile: for replicas someone
    /// else stops later (a pod the ReplicaSet deletes, a server a webhook's receiver stops). A provider that removes
    /// the replica itself when scaled in has nothing to do.
    /// </summary>
    void Retire(Replica replica)
    {
    }
}

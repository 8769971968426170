namespace Gateway.Providers;

/// <summary>
/// A replica source that learns its pool's replicas from elsewhere (a cluster's API) instead of starting them. Until it
/// has looked once, an empty pool means "not known yet" rather than "none", so the gateway is not ready before then.
/// </summary>
internal interface IDiscoveringReplicaSource : IReplicaSource
{
    /// <summary>True once the source has listed the pool's replicas successfully; it stays true when the source later loses contact.</summary>
    bool HasDiscovered { get; }
}

using Gateway.Model;

namespace Gateway.Providers;

/// <summary>Makes <see cref="StaticReplicaProvider"/>s: the pool's <c>Static</c> addresses, ready from the start.</summary>
internal sealed class StaticProviderFactory : IReplicaProviderFactory
{
    public string Kind => ReplicaProviders.StaticKind;

    public IReplicaProvider Create(Pool pool) => new StaticReplicaProvider(pool, pool.Options.Static);
}

using Gateway.Model;

namespace Gateway.Providers;

/// <summary>
/// Makes the providers of one kind. The gateway registers <c>Static</c>, <c>Process</c>, <c>Webhook</c> and <c>Provider</c>; a host adds
/// others (<c>Kubernetes</c>, with <c>AddKubernetes()</c>) without the core referencing their client libraries.
/// </summary>
public interface IReplicaProviderFactory
{
    /// <summary>The kind a pool's configuration asks for (see <see cref="ReplicaProviders.KindOf"/>).</summary>
    string Kind { get; }

    /// <summary>The provider that fills <paramref name="pool"/>, as its <see cref="Pool.Options"/> describe it.</summary>
    IReplicaProvider Create(Pool pool);
}

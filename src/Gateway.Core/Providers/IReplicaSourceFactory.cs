using Gateway.Configuration;
using Gateway.Model;

namespace Gateway.Providers;

/// <summary>
/// Makes replica sources that live outside Gateway.Core (Kubernetes), so the core never references their
/// client libraries. A host registers one with the source's <c>Add...()</c> extension.
/// </summary>
internal interface IReplicaSourceFactory
{
    /// <summary>The source for <paramref name="options"/>, or null when the pool asks for another kind.</summary>
    IReplicaSource? TryCreate(Pool pool, PoolOptions options, IServiceProvider services);
}

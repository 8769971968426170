using Gateway.Configuration;
using Gateway.Model;

namespace Gateway.Providers;

/// <summary>
/// Makes pool scalers that live outside Gateway.Core (a Kubernetes scale target), so the core never references
/// their client libraries. A host registers one with the scaler's <c>Add...()</c> extension.
/// </summary>
internal interface IPoolScalerFactory
{
    /// <summary>The scaler for <paramref name="options"/>, or null when the pool asks for another kind.</summary>
    IPoolScaler? TryCreate(Pool pool, PoolOptions options, IReplicaSource source, IServiceProvider services);
}

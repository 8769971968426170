using Gateway.Backends;
using Gateway.Configuration;

namespace Gateway.Scaling;

/// <summary>Chooses the scaler an elastic pool's configuration asks for.</summary>
internal static class PoolScalers
{
    /// <summary>The pool's scaler, or null when nothing can scale it (its replicas are fixed addresses).</summary>
    public static IPoolScaler? Create(Pool pool, PoolOptions options, IReplicaSource source, IServiceProvider services)
    {
        foreach (var factory in services.GetServices<IPoolScalerFactory>())
        {
            if (factory.TryCreate(pool, options, source, services) is { } scaler)
            {
                return scaler;
            }
        }

        // A source that starts its replicas itself scales its own pool.
        return source as IPoolScaler;
    }
}

using Gateway.Configuration;

namespace Gateway.Backends;

/// <summary>Chooses the replica source a pool's configuration asks for.</summary>
internal static class ReplicaSources
{
    public static IReplicaSource Create(Pool pool, PoolOptions options, IServiceProvider services)
    {
        if (options.Process is { } process)
        {
            throw new NotSupportedException("process replicas are wired in the next step " + process.Command);
        }

        return new StaticReplicaSource(pool, options.Static);
    }
}

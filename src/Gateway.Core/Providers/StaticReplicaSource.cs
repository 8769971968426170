using Gateway.Model;

namespace Gateway.Providers;

/// <summary>Fixed replica addresses from configuration, ready from the start.</summary>
internal sealed class StaticReplicaSource(Pool pool, IReadOnlyList<string> addresses) : IReplicaSource
{
    public Pool Pool => pool;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var address in addresses)
        {
            pool.AddReplica(new Uri(address), ReplicaState.Ready);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

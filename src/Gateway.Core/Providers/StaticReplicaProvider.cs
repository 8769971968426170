using Gateway.Model;

namespace Gateway.Providers;

/// <summary>Fixed replica addresses from configuration, ready from the start.</summary>
internal sealed class StaticReplicaProvider(Pool pool, IReadOnlyList<string> addresses) : IReplicaProvider
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

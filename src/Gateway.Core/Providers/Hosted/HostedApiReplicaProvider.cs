using Gateway.Model;

namespace Gateway.Providers.Hosted;

/// <summary>
/// A hosted OpenAI-compatible API (<see cref="Configuration.PoolOptions.Provider"/>) as its pool's one replica, at the
/// API's base URL. Without a stand-in it is ready from the start: it has no <c>/health</c> to probe; its circuit breaker
/// takes it out of placement and lets it back (the forwarding's provider clients). With one, the replica is the
/// <see cref="StandInProcess"/>'s, ready once the process answers over TLS.
/// </summary>
internal sealed class HostedApiReplicaProvider(Pool pool, StandInProcess? standIn) : IReplicaProvider, IAsyncDisposable
{
    public Pool Pool => pool;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (standIn is not null)
        {
            return standIn.StartAsync(cancellationToken);
        }

        pool.AddReplica(new Uri(pool.Options.Provider!.BaseUrl), ReplicaState.Ready);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => standIn?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    /// <summary>Stops the stand-in, if any, when <see cref="StopAsync"/> was not called.</summary>
    public ValueTask DisposeAsync() => standIn?.DisposeAsync() ?? ValueTask.CompletedTask;
}

using Gateway.Model;

namespace Gateway.Providers.Hosted;

/// <summary>
/// A hosted OpenAI-compatible API (<see cref="Configuration.PoolOptions.Provider"/>) as its pool's one replica, at the
/// API's base URL, ready from the start: it has no <c>/health</c> to probe; its circuit breaker takes it out of
/// placement and lets it back (the forwarding's provider clients).
/// </summary>
internal sealed class HostedApiReplicaProvider(Pool pool) : IReplicaProvider
{
    public Pool Pool => pool;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        pool.AddReplica(new Uri(pool.Options.Provider!.BaseUrl), ReplicaState.Ready);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Makes <see cref="HostedApiReplicaProvider"/>s for pools with a <c>Provider</c> source.</summary>
internal sealed class HostedApiProviderFactory : IReplicaProviderFactory
{
    public string Kind => ReplicaProviders.ProviderKind;

    public IReplicaProvider Create(Pool pool) => new HostedApiReplicaProvider(pool);
}

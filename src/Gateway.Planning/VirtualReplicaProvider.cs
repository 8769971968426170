using Gateway.Model;
using Gateway.Providers;

namespace Gateway.Planning;

/// <summary>
/// A planned pool's replicas: as many ready at the start as the pool would start with, and, for an elastic pool, more
/// asked for by the gateway's own scaling loop, which become ready after the pool's <see cref="ReplicaModel.Boot"/> on
/// the virtual clock and leave when scaled in. Nothing runs: requests placed on them are timed by the replay.
/// </summary>
internal sealed class VirtualReplicaProvider(Pool pool, ReplicaModel model, TimeProvider clock) : IReplicaProvider, IPoolScaler
{
    private readonly List<(Replica Replica, ITimer Boot)> _booting = [];
    private int _made;

    public Pool Pool => pool;

    public IPoolScaler? Scaler => pool.Scaling is null ? null : this;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var options = pool.Options;
        var initial = options.Scaling?.MinReplicas
            ?? options.Process?.Replicas
            ?? (options.Provider is not null ? 1 : Math.Max(1, options.Static.Count));
        for (var i = 0; i < initial; i++)
        {
            Add(ReplicaState.Ready);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var (_, boot) in _booting)
        {
            boot.Dispose();
        }

        _booting.Clear();
        return Task.CompletedTask;
    }

    public Task ScaleOutAsync(ScaleRequest request, CancellationToken cancellationToken)
    {
        // As the process source does: the count asked for, less what the pool has (booting ones included).
        for (var i = pool.Replicas.Count; i < request.DesiredReplicas; i++)
        {
            var replica = Add(ReplicaState.Provisioning);
            var boot = clock.CreateTimer(_ => Ready(replica), null, model.Boot, Timeout.InfiniteTimeSpan);
            _booting.Add((replica, boot));
        }

        return Task.CompletedTask;
    }

    public Task ScaleInAsync(Replica replica, ScaleRequest request, CancellationToken cancellationToken)
    {
        var booting = _booting.FindIndex(b => ReferenceEquals(b.Replica, replica));
        if (booting >= 0)
        {
            _booting[booting].Boot.Dispose();
            _booting.RemoveAt(booting);
        }

        replica.SetState(ReplicaState.Stopped);
        pool.RemoveReplica(replica);
        return Task.CompletedTask;
    }

    /// <summary>A booting replica's time is up: it serves from now on, and its timer is done with.</summary>
    private void Ready(Replica replica)
    {
        var booting = _booting.FindIndex(b => ReferenceEquals(b.Replica, replica));
        _booting[booting].Boot.Dispose();
        _booting.RemoveAt(booting);
        replica.SetState(ReplicaState.Ready);
    }

    private Replica Add(ReplicaState state)
    {
        var options = pool.Options;
        var address = options.Provider is not null && _made == 0
            ? new Uri(options.Provider.BaseUrl)
            : new Uri($"http://{pool.Name}-{++_made}.planned:8000");
        return pool.AddReplica(address, state);
    }
}

/// <summary>Makes a <see cref="VirtualReplicaProvider"/> for every pool of one kind of source.</summary>
internal sealed class VirtualProviderFactory(string kind, Func<Pool, IReplicaProvider> create) : IReplicaProviderFactory
{
    public string Kind => kind;

    public IReplicaProvider Create(Pool pool) => create(pool);
}

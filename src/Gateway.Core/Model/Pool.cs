using Gateway.Configuration;

namespace Gateway.Model;

/// <summary>
/// Replicas of one kind (on-prem, cloud-elastic) with a priority: pools of lower priority numbers are
/// filled first. The replica list is an immutable snapshot swapped on change, so placement reads it
/// without a lock.
/// </summary>
public sealed class Pool
{
    private readonly Lock _lock = new();
    private volatile Replica[] _replicas = [];
    private volatile ICapacityListener[] _listeners = [];
    private int _nextId;
    private volatile int _desiredReplicas;

    /// <summary>The pool <paramref name="options"/> describe, in service <paramref name="serviceName"/> of <paramref name="serviceNamespace"/>.</summary>
    public Pool(PoolOptions options, string serviceName, string serviceNamespace)
    {
        Options = options;
        Name = options.Name;
        ServiceName = serviceName;
        ServiceNamespace = serviceNamespace;
        Priority = options.Priority;
        Location = options.Location ?? (options.Priority == 0 && options.Provider is null ? PoolLocation.OnPrem : PoolLocation.Cloud);
        Role = options.Role ?? PoolRole.Gpu;
        IsProvider = options.Provider is not null;

        // A hosted API is one destination whose capacity is the concurrency the gateway allows itself there.
        CapacityPerReplica = options.Provider?.MaxConcurrency ?? options.CapacityPerReplica;

        // An elastic pool starts at, and needs for readiness, only its scaling minimum: the controller grows it.
        MinReplicas = IsProvider ? 1 : options.Scaling?.MinReplicas ?? options.Process?.Replicas ?? options.Static.Count;

        // A fixed pool's count is its configuration's, except on Kubernetes, where the cluster decides it.
        MaxReplicas = options.Scaling?.MaxReplicas ?? (options.Kubernetes is null ? MinReplicas : null);
        _desiredReplicas = MinReplicas;
    }

    /// <summary>Where its replicas run: an <see cref="Residency.OnPremOnly"/> tenant is placed only on <see cref="PoolLocation.OnPrem"/> pools.</summary>
    public PoolLocation Location { get; }

    /// <summary>What the pool is for in placement: GPU tiers by priority, then an overflow provider; a bridge only for requests kept waiting.</summary>
    public PoolRole Role { get; }

    /// <summary>Whether the pool is a hosted API (<see cref="PoolOptions.Provider"/>): one destination, no probes, no scraping, priced per token.</summary>
    public bool IsProvider { get; }

    /// <summary>The pool's configuration, so that control loops walk the topology rather than join configuration to it by name.</summary>
    public PoolOptions Options { get; }

    /// <summary>The name of the service the pool belongs to, for logs, labels and scaling calls.</summary>
    public string ServiceName { get; }

    /// <summary>The namespace of the service the pool belongs to.</summary>
    public string ServiceNamespace { get; }

    /// <summary>The pool's name, e.g. <c>on-prem</c>.</summary>
    public string Name { get; }

    /// <summary>0 is filled first.</summary>
    public int Priority { get; }

    /// <summary>Concurrent requests one replica serves.</summary>
    public int CapacityPerReplica { get; }

    /// <summary>How the pool is scaled with demand, or null for a fixed-size pool.</summary>
    public ScalingOptions? Scaling => Options.Scaling;

    /// <summary>Replicas that must be ready for the gateway to report itself ready.</summary>
    public int MinReplicas { get; }

    /// <summary>
    /// Replicas the pool never goes beyond: an elastic pool's scaling maximum, a fixed pool's configured count; null
    /// for a fixed pool whose count the cluster decides (Kubernetes).
    /// </summary>
    public int? MaxReplicas { get; }

    /// <summary>Replicas the pool should have now: its configured count until a scale controller says otherwise.</summary>
    public int DesiredReplicas
    {
        get => _desiredReplicas;
        internal set
        {
            var more = value > _desiredReplicas;
            _desiredReplicas = value;
            if (more)
            {
                // Replicas on their way open the service's bridge to requests already kept waiting.
                OnCapacityFreed();
            }
        }
    }

    /// <summary>The current replicas, in the order they were added.</summary>
    public IReadOnlyList<Replica> Replicas => _replicas;

    /// <summary>The snapshot placement scans.</summary>
    internal Replica[] Snapshot => _replicas;

    /// <summary>Replicas ready now.</summary>
    public int ReadyCount
    {
        get
        {
            var count = 0;
            foreach (var replica in _replicas)
            {
                if (replica.State == ReplicaState.Ready)
                {
                    count++;
                }
            }

            return count;
        }
    }

    /// <summary>Registers <paramref name="listener"/> to hear of room freed in this pool.</summary>
    public void AddCapacityListener(ICapacityListener listener)
    {
        lock (_lock)
        {
            _listeners = [.. _listeners, listener];
        }
    }

    /// <summary>Adds a replica at <paramref name="address"/>, named after the pool.</summary>
    public Replica AddReplica(Uri address, ReplicaState state)
    {
        Replica replica;
        lock (_lock)
        {
            replica = new Replica($"{Name}-{++_nextId}", address, this, state);
            _replicas = [.. _replicas, replica];
        }

        if (state == ReplicaState.Ready)
        {
            OnCapacityFreed();
        }

        return replica;
    }

    /// <summary>Removes a replica; requests in flight on it finish on their own.</summary>
    public void RemoveReplica(Replica replica)
    {
        replica.SetState(ReplicaState.Stopped);
        lock (_lock)
        {
            _replicas = Array.FindAll(_replicas, r => !ReferenceEquals(r, replica));
        }
    }

    /// <summary>Tells the listeners that a request may fit now.</summary>
    internal void OnCapacityFreed()
    {
        foreach (var listener in _listeners)
        {
            listener.OnCapacityFreed(this);
        }
    }
}

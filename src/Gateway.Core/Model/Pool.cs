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
    private int _nextId;

    internal Pool(string name, int priority, int capacityPerReplica, int minReplicas, int? maxReplicas, ScalingOptions? scaling = null)
    {
        MaxReplicas = maxReplicas;
        Scaling = scaling;
        Name = name;
        Priority = priority;
        CapacityPerReplica = capacityPerReplica;
        MinReplicas = minReplicas;
        DesiredReplicas = minReplicas;
    }

    /// <summary>The pool's name, e.g. <c>on-prem</c>.</summary>
    public string Name { get; }

    /// <summary>0 is filled first.</summary>
    public int Priority { get; }

    /// <summary>Concurrent requests one replica serves.</summary>
    public int CapacityPerReplica { get; }

    /// <summary>How the pool is scaled with demand, or null for a fixed-size pool.</summary>
    public ScalingOptions? Scaling { get; }

    /// <summary>Replicas that must be ready for the gateway to report itself ready.</summary>
    public int MinReplicas { get; }

    /// <summary>
    /// Replicas the pool never goes beyond: an elastic pool's scaling maximum, a fixed pool's configured count; null
    /// for a fixed pool whose count the cluster decides (Kubernetes).
    /// </summary>
    public int? MaxReplicas { get; }

    /// <summary>Replicas the pool should have now: its configured count until a scale controller says otherwise.</summary>
    public int DesiredReplicas { get; internal set; }

    /// <summary>The service the pool belongs to.</summary>
    public InferenceService Service { get; internal set; } = null!;

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

    /// <summary>Adds a replica at <paramref name="address"/>, named after the pool.</summary>
    internal Replica AddReplica(Uri address, ReplicaState state)
    {
        Replica replica;
        lock (_lock)
        {
            replica = new Replica($"{Name}-{++_nextId}", address, this, state);
            _replicas = [.. _replicas, replica];
        }

        if (state == ReplicaState.Ready)
        {
            Service.OnCapacityFreed();
        }

        return replica;
    }

    /// <summary>Removes a replica; requests in flight on it finish on their own.</summary>
    internal void RemoveReplica(Replica replica)
    {
        replica.SetState(ReplicaState.Stopped);
        lock (_lock)
        {
            _replicas = Array.FindAll(_replicas, r => !ReferenceEquals(r, replica));
        }
    }
}

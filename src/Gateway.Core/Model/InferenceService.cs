using Gateway.Admission;
using Gateway.Balancing;
using Gateway.Configuration;

namespace Gateway.Model;

/// <summary>
/// A service behind the gateway (a KServe InferenceService such as <c>qwen-chat</c> in <c>default</c>): its
/// pools in order of priority, the policy that places requests on replicas, and its queue.
/// </summary>
public sealed class InferenceService
{
    internal InferenceService(ServiceOptions options, IPlacementPolicy placement, TimeProvider time)
    {
        Name = options.Name;
        Namespace = options.Namespace;
        Models = [.. options.Models];
        Placement = placement;
        TargetUtilization = options.TargetUtilization;

        // Stable by priority: pools of equal priority keep their configured order.
        var pools = new List<Pool>();
        foreach (var pool in options.Pools)
        {
            // An elastic pool starts at, and needs for readiness, only its scaling minimum: the controller grows it.
            var minReplicas = pool.Scaling?.MinReplicas ?? pool.Process?.Replicas ?? pool.Static.Count;

            // A fixed pool's count is its configuration's, except on Kubernetes, where the cluster decides it.
            int? maxReplicas = pool.Scaling?.MaxReplicas ?? (pool.Kubernetes is null ? minReplicas : null);
            pools.Add(new Pool(pool.Name, pool.Priority, pool.CapacityPerReplica, minReplicas, maxReplicas, pool.Scaling) { Service = this });
        }

        Pools = [.. pools.OrderBy(p => p.Priority)];
        Queue = new ServiceQueue(this, options.Queue, time);
    }

    /// <summary>Service name.</summary>
    public string Name { get; }

    /// <summary>Namespace.</summary>
    public string Namespace { get; }

    /// <summary>Model names the service serves.</summary>
    public IReadOnlyList<string> Models { get; }

    /// <summary>Share of the ready slots the service should use; elastic pools grow while demand would exceed it.</summary>
    public double TargetUtilization { get; }

    /// <summary>Pools, highest priority (lowest number) first.</summary>
    public IReadOnlyList<Pool> Pools { get; }

    /// <summary>How requests are placed on replicas.</summary>
    internal IPlacementPolicy Placement { get; }

    /// <summary>Requests waiting for a slot.</summary>
    internal ServiceQueue Queue { get; }

    /// <summary>Finds a pool by name.</summary>
    public Pool? FindPool(string name)
    {
        foreach (var pool in Pools)
        {
            if (pool.Name == name)
            {
                return pool;
            }
        }

        return null;
    }

    /// <summary>A slot freed or a replica became ready: the queue's head may go now.</summary>
    internal void OnCapacityFreed() => Queue.Dispatch();
}

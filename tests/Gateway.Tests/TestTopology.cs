using System.Runtime.CompilerServices;
using Gateway.Admission;
using Gateway.Balancing;
using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests;

/// <summary>
/// Builds services, pools and replicas through the real types, as the gateway does from its configuration, with each
/// service's queue (and its placement policy) as the gateway builds them beside the model.
/// </summary>
internal static class TestTopology
{
    // The model knows nothing of the queues above it; tests reach a service's queue from the service, as the gateway
    // does through ServiceQueues.
    private static readonly ConditionalWeakTable<InferenceService, ServiceQueue> Queues = [];
    public const string ServiceName = "qwen-chat";

    public static PoolOptions Pool(string name, int priority, int capacity, params string[] addresses) =>
        new() { Name = name, Priority = priority, CapacityPerReplica = capacity, Static = [.. addresses] };

    public static ServiceOptions Service(params PoolOptions[] pools) =>
        new() { Name = ServiceName, Models = ["qwen2.5-7b"], Pools = [.. pools] };

    public static GatewayOptions Options(params ServiceOptions[] services) => new() { Services = [.. services] };

    public static GatewayTopology Build(GatewayOptions options, TimeProvider? time = null, Random? random = null)
    {
        var topology = new GatewayTopology(options);
        WithQueues(topology, time ?? new FakeTimeProvider(), random ?? new Random(1), options.Classes);
        return topology;
    }

    /// <summary>The queues of <paramref name="topology"/>'s services, each then found from its service by <c>service.Queue</c>.</summary>
    public static ServiceQueues WithQueues(
        GatewayTopology topology, TimeProvider time, Random random, IReadOnlyDictionary<PriorityClass, PriorityClassOptions>? classes = null)
    {
        var queues = new ServiceQueues(topology, time, random, classes);
        foreach (var service in topology.Services)
        {
            Queues.AddOrUpdate(service, queues[service]);
        }

        return queues;
    }

    /// <summary>One service with an on-prem pool (priority 0) and a cloud pool (priority 1), no replicas yet.</summary>
    public static InferenceService TwoTiers(int onPremCapacity, int cloudCapacity, TimeProvider? time = null, QueueOptions? queue = null)
    {
        var service = Service(Pool("on-prem", 0, onPremCapacity, "http://10.0.0.1:8000"), Pool("cloud", 1, cloudCapacity, "http://10.0.1.1:8000"));
        service.Queue = queue ?? new QueueOptions();
        return Build(Options(service), time).Services[0];
    }

    /// <summary>One service with one pool, no replicas yet.</summary>
    public static InferenceService OnePool(int capacity, TimeProvider? time = null, QueueOptions? queue = null, BalancingMode balancing = BalancingMode.SpillOver)
    {
        var service = Service(Pool("on-prem", 0, capacity, "http://10.0.0.1:8000"));
        service.Queue = queue ?? new QueueOptions();
        service.Balancing = balancing;
        return Build(Options(service), time).Services[0];
    }

    /// <summary>A tenant of <paramref name="priority"/> and <paramref name="residency"/>, as the tenant directory builds it from configuration.</summary>
    public static Tenant NewTenant(string name, PriorityClass priority = PriorityClass.Standard, Residency residency = Residency.Any) =>
        new(new TenantOptions { Name = name, Priority = priority, Residency = residency });

    public static Replica Add(Pool pool, string address, ReplicaState state = ReplicaState.Ready) => pool.AddReplica(new Uri(address), state);

    public static Pool OnPrem(this InferenceService service) => service.FindPool("on-prem")!;

    public static Pool Cloud(this InferenceService service) => service.FindPool("cloud")!;

    extension(InferenceService service)
    {
        /// <summary>The service's queue, built by <see cref="Build"/>.</summary>
        public ServiceQueue Queue => Queues.TryGetValue(service, out var queue) ? queue : throw new InvalidOperationException("built without TestTopology.Build");

        /// <summary>The placement policy of the service's queue.</summary>
        public IPlacementPolicy Placement => service.Queue.Placement;
    }
}

using Gateway.Balancing;
using Gateway.Configuration;
using Gateway.Model;

namespace Gateway.Admission;

/// <summary>
/// Every service's queue, each with the placement policy its configuration names, found by the service's index. It
/// also holds the gateway's one admission switch: once closed for a shutdown, no queue takes new work.
/// </summary>
internal sealed class ServiceQueues
{
    private readonly ServiceQueue[] _queues;
    private volatile bool _closed;

    /// <summary>
    /// A queue for each service of <paramref name="topology"/>, placing each class's requests within its share of a
    /// replica's slots (<see cref="Configuration.GatewayOptions.Classes"/>; every slot when null).
    /// </summary>
    public ServiceQueues(GatewayTopology topology, TimeProvider time, Random random, IReadOnlyDictionary<PriorityClass, PriorityClassOptions>? classes = null)
    {
        _queues = new ServiceQueue[topology.Services.Count];
        var slots = new ClassSlots(classes);
        foreach (var service in topology.Services)
        {
            _queues[service.Index] = new ServiceQueue(service, PlacementPolicies.Create(service.Options.Balancing, random, slots), time);
        }
    }

    /// <summary>Whether the gateway is shutting down and takes no new requests.</summary>
    public bool IsClosed => _closed;

    /// <summary>Every queue, in the order of the topology's services.</summary>
    public IReadOnlyList<ServiceQueue> All => _queues;

    /// <summary>The queue of <paramref name="service"/>.</summary>
    public ServiceQueue this[InferenceService service] => _queues[service.Index];

    /// <summary>
    /// Stops admitting for a shutdown: every waiter is answered at once (503) and later arrivals too; requests already
    /// placed finish.
    /// </summary>
    public void Close()
    {
        _closed = true;
        foreach (var queue in _queues)
        {
            queue.Close();
        }
    }
}

using Gateway.Configuration;

namespace Gateway.Model;

/// <summary>
/// A service behind the gateway (a KServe InferenceService such as <c>qwen-chat</c> in <c>default</c>): its names,
/// its pools in order of priority, and how many of its requests wait in the gateway's queue, by class.
/// </summary>
public sealed class InferenceService
{
    private static readonly int ClassCount = Enum.GetValues<PriorityClass>().Length;

    private readonly int[] _waitingIn = new int[ClassCount];
    private readonly int[] _waitingForCloud = new int[ClassCount];
    private int _waiting;
    private volatile bool _budgetSpent;

    /// <summary>The service <paramref name="options"/> describe, at <paramref name="index"/> in its topology.</summary>
    public InferenceService(ServiceOptions options, int index)
    {
        Options = options;
        Index = index;
        Name = options.Name;
        Namespace = options.Namespace;
        Models = [.. options.Models];
        TargetUtilization = options.TargetUtilization;

        // Stable by priority: pools of equal priority keep their configured order.
        var pools = new List<Pool>(options.Pools.Count);
        foreach (var pool in options.Pools)
        {
            pools.Add(new Pool(pool, options.Name, options.Namespace));
        }

        // GPU tiers first, then the hosted APIs: a provider takes only what no GPU replica can.
        Pools = [.. pools.OrderBy(p => p.IsProvider).ThenBy(p => p.Priority)];
        foreach (var pool in Pools)
        {
            if (pool.Role == PoolRole.Bridge)
            {
                Bridges = [.. Bridges, pool];
            }
        }
    }

    /// <summary>The service's <see cref="PoolRole.Bridge"/> pools, which placement passes over until a request has waited long enough.</summary>
    public IReadOnlyList<Pool> Bridges { get; } = [];

    /// <summary>
    /// Whether the service has spent its <see cref="ServiceOptions.Budget"/> over the last hour: its providers take
    /// nothing new and its cloud pools are not scaled out. Set by the cost meter.
    /// </summary>
    public bool BudgetSpent
    {
        get => _budgetSpent;
        internal set => _budgetSpent = value;
    }

    /// <summary>
    /// The most replicas the elastic <paramref name="pool"/> (scaled by <paramref name="scaling"/>) may be asked for: its
    /// maximum, and for a cloud pool of a service with a budget no more than an hour of them stays within it
    /// (<see cref="BudgetOptions.MaxPerHour"/> over <see cref="CostOptions.PerReplicaHour"/>, rounded down), never below
    /// its minimum. The scale controller asks for no more; a bridge counts a pool held there as at its maximum.
    /// </summary>
    public int MostReplicasOf(Pool pool, ScalingOptions scaling)
    {
        var price = pool.Options.Cost.PerReplicaHour;
        if (pool.Location != PoolLocation.Cloud || Options.Budget is not { } budget || price <= 0)
        {
            return scaling.MaxReplicas;
        }

        var affordable = Math.Floor(budget.MaxPerHour / price);
        return affordable >= scaling.MaxReplicas ? scaling.MaxReplicas : Math.Max(scaling.MinReplicas, (int)affordable);
    }

    /// <summary>
    /// Whether a bridge may take requests kept waiting: GPU cloud capacity is on its way (an elastic pool wants more
    /// replicas than it has ready) or cannot grow (every elastic pool is at its maximum, or at what the budget affords), and
    /// the budget is not spent. Once the replicas asked for are ready, it is false again: the bridge takes nothing new.
    /// </summary>
    public bool BridgeOpen
    {
        get
        {
            if (_budgetSpent)
            {
                return false;
            }

            var elastic = false;
            var allAtMax = true;
            foreach (var pool in Pools)
            {
                if (pool.Scaling is not { } scaling || pool.IsProvider)
                {
                    continue;
                }

                elastic = true;
                if (pool.DesiredReplicas > pool.ReadyCount)
                {
                    return true;
                }

                allAtMax &= pool.DesiredReplicas >= MostReplicasOf(pool, scaling);
            }

            return !elastic || allAtMax;
        }
    }

    /// <summary>The service's configuration.</summary>
    public ServiceOptions Options { get; }

    /// <summary>The service's position in <see cref="GatewayTopology.Services"/>: what per-service state above the model is indexed by.</summary>
    public int Index { get; }

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

    /// <summary>Requests of the service waiting in the gateway's queue for a slot, as the queue last counted them.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Requests of class <paramref name="priority"/> waiting in the gateway's queue.</summary>
    public int WaitingIn(PriorityClass priority) => Volatile.Read(ref _waitingIn[(int)priority]);

    /// <summary>
    /// Requests of class <paramref name="priority"/> waiting in the gateway's queue that a cloud pool may serve (their
    /// tenant is not <see cref="Residency.OnPremOnly"/>): the waiting demand more cloud replicas could take.
    /// </summary>
    public int WaitingForCloud(PriorityClass priority) => Volatile.Read(ref _waitingForCloud[(int)priority]);

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

    /// <summary>
    /// The queue counts <paramref name="delta"/> more (or fewer) waiting requests of class <paramref name="priority"/>,
    /// that a cloud pool may serve or not (<paramref name="forCloud"/>), kept here so that demand is read from the model
    /// alone. Only the queue writes, under its lock.
    /// </summary>
    internal void CountWaiting(PriorityClass priority, bool forCloud, int delta)
    {
        Volatile.Write(ref _waitingIn[(int)priority], _waitingIn[(int)priority] + delta);
        if (forCloud)
        {
            Volatile.Write(ref _waitingForCloud[(int)priority], _waitingForCloud[(int)priority] + delta);
        }

        Volatile.Write(ref _waiting, _waiting + delta);
    }
}

using Gateway.Configuration;
using Gateway.Model;
using Gateway.Telemetry;

namespace Gateway.Scaling;

/// <summary>
/// Decides, tick by tick, how many replicas each elastic pool of a service should have, and which replica leaves.
/// A pool is wanted at the fewest replicas that keep demand (requests in flight plus queued) at or under the
/// service's target utilisation of the capacity above it (ready replicas of fixed pools, wanted replicas of elastic
/// ones) plus its own, within its minimum and maximum. A cloud pool counts only the queued requests it could serve and
/// is meant to: not those of on-prem-only tenants, nor those of a class whose <see cref="PriorityClassOptions.ScalesCloud"/>
/// is false (see <see cref="CloudDemand"/>). A hosted API (a provider pool) is no capacity here: it hides the boot of
/// GPUs, it does not replace them. A cloud pool of a service with a <see cref="ServiceOptions.Budget"/> is never wanted
/// larger than an hour of it affords, and is not grown at all while <see cref="InferenceService.BudgetSpent"/>.
/// Replicas still provisioning count as the pool's own, and so
/// do replicas asked for that have not joined yet (a node still booting for a webhook or Kubernetes scaler), until
/// they join or the provisioning timeout passes: a burst is asked for once. The wish for more is granted, all at
/// once, when it has held for the scale-out window; the wish for fewer only when it has held for the whole
/// stabilisation window: first by lowering a request whose replicas have not all arrived, then one replica at a
/// time, newest first, each drained before it is removed and the next one chosen.
/// </summary>
/// <remarks>
/// No I/O and no clock of its own: a loop calls <see cref="Tick()"/> (every 250 ms, say) from one thread and
/// carries out the actions before the next tick — replicas it adds join the pool as provisioning (or later, when
/// they are up), a replica it drains is marked <see cref="ReplicaState.Draining"/>, a replica it removes leaves the
/// pool — and reports an action it could not carry out with <see cref="Failed"/>.
/// </remarks>
internal sealed class ScaleController
{
    // Demand exactly at the target is within it; the tolerance keeps a rounding error from asking for a replica.
    private const double Tolerance = 1e-9;

    // A removal whose scaler call failed (an API server or a receiver away) is tried again after this, not every tick.
    private static readonly TimeSpan RemoveRetryDelay = TimeSpan.FromSeconds(5);

    private readonly TimeProvider _time;
    private readonly GatewayMetrics? _metrics;
    private readonly ElasticPool?[] _pools;
    private readonly PriorityClass[] _scalingCloud;

    /// <summary>
    /// The controller of <paramref name="service"/>'s elastic pools; <paramref name="classes"/> (the gateway's
    /// <see cref="GatewayOptions.Classes"/>) says which classes' queued requests scale cloud pools (a class not named does).
    /// </summary>
    public ScaleController(
        InferenceService service, TimeProvider time, GatewayMetrics? metrics = null, IReadOnlyDictionary<PriorityClass, PriorityClassOptions>? classes = null)
    {
        Service = service;
        _time = time;
        _metrics = metrics;
        _scalingCloud = Array.FindAll(Enum.GetValues<PriorityClass>(), c => classes is null || !classes.TryGetValue(c, out var o) || o.ScalesCloud);
        _pools = new ElasticPool?[service.Pools.Count];
        for (var i = 0; i < _pools.Length; i++)
        {
            if (service.Pools[i].Scaling is { } scaling)
            {
                _pools[i] = new ElasticPool(scaling);
            }
        }
    }

    /// <summary>The service whose elastic pools are scaled.</summary>
    public InferenceService Service { get; }

    /// <summary>
    /// Requests in flight on the service's replicas plus requests waiting in its queue. In flight counts what the
    /// replicas' last scrape says other gateways have there too, so that the one gateway that scales (the leader)
    /// sees the load of all of them; other gateways' queues it cannot see.
    /// </summary>
    public static int Demand(InferenceService service) => InFlight(service) + service.Waiting;

    /// <summary>
    /// What a cloud pool is scaled for: requests in flight (as in <see cref="Demand"/>: wherever they run, whoever sent
    /// them) plus the queued requests that cloud replicas could serve (their tenant is not on-prem only) of the classes
    /// whose queued demand scales cloud pools. The others wait for capacity that exists: more cloud replicas would not
    /// serve them, or are not meant to be bought for them.
    /// </summary>
    public int CloudDemand()
    {
        var demand = InFlight(Service);
        foreach (var priority in _scalingCloud)
        {
            demand += Service.WaitingForCloud(priority);
        }

        return demand;
    }

    private static int InFlight(InferenceService service)
    {
        var inFlight = 0;
        foreach (var pool in service.Pools)
        {
            foreach (var replica in pool.Snapshot)
            {
                inFlight += replica.EffectiveInFlight;
            }
        }

        return inFlight;
    }

    /// <summary>
    /// The fewest replicas, within <paramref name="min"/>..<paramref name="max"/>, that keep
    /// <paramref name="demand"/> / (<paramref name="capacityAbove"/> + replicas × <paramref name="capacityPerReplica"/>)
    /// at or under <paramref name="targetUtilization"/>.
    /// </summary>
    public static int DesiredReplicas(int demand, double targetUtilization, int capacityAbove, int capacityPerReplica, int min, int max)
    {
        var replicas = min;
        while (replicas < max && demand - targetUtilization * (capacityAbove + (long)replicas * capacityPerReplica) > Tolerance)
        {
            replicas++;
        }

        return replicas;
    }

    /// <summary>The replicas the last tick found <paramref name="pool"/> should have (its wish, granted or not yet); null for a fixed pool.</summary>
    public int? Wanted(Pool pool)
    {
        var index = IndexOf(pool);
        return index < 0 ? null : _pools[index]?.Wanted;
    }

    /// <summary>Decides on the service's demand now.</summary>
    public IReadOnlyList<ScaleAction> Tick() => Tick(Demand(Service), CloudDemand());

    /// <summary>Decides on the given demand (requests in flight plus queued), for every pool alike; the actions to carry out now, often none.</summary>
    public IReadOnlyList<ScaleAction> Tick(int demand) => Tick(demand, demand);

    /// <summary>
    /// Decides on the given demand: <paramref name="demand"/> for pools located on-prem, <paramref name="cloudDemand"/>
    /// (see <see cref="CloudDemand"/>) for cloud pools. The actions to carry out now, often none.
    /// </summary>
    public IReadOnlyList<ScaleAction> Tick(int demand, int cloudDemand)
    {
        var now = _time.GetUtcNow();
        List<ScaleAction>? actions = null;
        var capacityAbove = 0;
        for (var i = 0; i < _pools.Length; i++)
        {
            var pool = Service.Pools[i];
            if (_pools[i] is not { } elastic)
            {
                // Provider pools come after every GPU pool (InferenceService orders them so), so a hosted API's slots are
                // never counted above a GPU pool: the bridge hides a boot, it does not stand in for GPUs.
                capacityAbove += pool.ReadyCount * pool.CapacityPerReplica;
                continue;
            }

            var scaling = elastic.Options;
            var staying = CountStaying(pool, elastic);
            var current = Counted(elastic, staying, now);
            var poolDemand = pool.Location == PoolLocation.Cloud ? cloudDemand : demand;
            var wanted = DesiredReplicas(poolDemand, Service.TargetUtilization, capacityAbove, pool.CapacityPerReplica, scaling.MinReplicas, Service.MostReplicasOf(pool, scaling));
            if (Service.BudgetSpent && pool.Location == PoolLocation.Cloud)
            {
                // A spent budget buys no more cloud replicas: the pool keeps what it has, and may still shrink.
                wanted = Math.Min(wanted, Math.Max(current, scaling.MinReplicas));
            }

            elastic.Wanted = wanted;
            capacityAbove += wanted * pool.CapacityPerReplica;

            if (wanted > current)
            {
                elastic.FewerSince = null;
                elastic.MoreSince ??= now;
                if (now - elastic.MoreSince.Value >= TimeSpan.FromSeconds(scaling.ScaleOutWindowSeconds))
                {
                    elastic.MoreSince = null;
                    elastic.Pending = (wanted, now);
                    pool.DesiredReplicas = wanted;
                    (actions ??= []).Add(new ScaleAction.Add(pool, wanted - current));
                    _metrics?.ScaleEvent(Service.Name, pool.Name, "out");
                }
            }
            else if (wanted < current)
            {
                elastic.MoreSince = null;
                elastic.FewerSince ??= now;
                if (now - elastic.FewerSince.Value >= TimeSpan.FromSeconds(scaling.ScaleInStabilizationSeconds))
                {
                    if (elastic.Pending is { } pending && staying < pending.Desired)
                    {
                        // Replicas asked for and not arrived go first, by lowering the request: nothing to drain, and
                        // a node still booting is cheaper to cancel than one that serves.
                        var lowered = Math.Max(wanted, staying);
                        elastic.Pending = lowered > staying ? (lowered, pending.Since) : null;
                        pool.DesiredReplicas = lowered;
                        (actions ??= []).Add(new ScaleAction.Lower(pool, lowered, current));
                        _metrics?.ScaleEvent(Service.Name, pool.Name, "in");
                    }

                    // The wish keeps holding while replicas leave one by one: the next is chosen once the last is gone.
                    else if (elastic.Draining.Count == 0 && Newest(pool, elastic) is { } leaving)
                    {
                        elastic.Draining.Add(new Leaving(leaving, now, now));
                        pool.DesiredReplicas = current - 1;
                        (actions ??= []).Add(new ScaleAction.Drain(leaving));
                        _metrics?.ScaleEvent(Service.Name, pool.Name, "in");
                    }
                }
            }
            else
            {
                elastic.MoreSince = null;
                elastic.FewerSince = null;
            }

            // After the decision, so the next replica to leave is chosen on a later tick than the one that removed
            // the last.
            Removals(pool, elastic, now, ref actions);
        }

        return actions ?? (IReadOnlyList<ScaleAction>)[];
    }

    private static void Removals(Pool pool, ElasticPool elastic, DateTimeOffset now, ref List<ScaleAction>? actions)
    {
        var timeout = TimeSpan.FromSeconds(elastic.Options.DrainTimeoutSeconds);
        for (var d = elastic.Draining.Count - 1; d >= 0; d--)
        {
            var (replica, since, notBefore) = elastic.Draining[d];
            if (now < notBefore)
            {
                // A removal that failed waits a moment before it is tried again.
                continue;
            }

            if (replica.State == ReplicaState.Stopped || !Contains(pool, replica))
            {
                // Gone some other way (crashed, stopped by its provider): nothing left to remove.
                elastic.Draining.RemoveAt(d);
            }
            else if (replica.State == ReplicaState.Draining && replica.InFlight == 0 || now - since >= timeout)
            {
                // In flight counts as final only once the caller has marked the replica draining: before that a
                // request could still take a slot on it.
                elastic.Draining.RemoveAt(d);
                (actions ??= []).Add(new ScaleAction.Remove(replica));
            }
        }
    }

    /// <summary>
    /// Action <paramref name="action"/> of an earlier tick could not be carried out (the scaler threw). A scale-out
    /// that failed is not waited for: the pool counts only the replicas it has again, so a later tick asks anew
    /// once the wish has held for the scale-out window. Other failures change nothing: a lowered request the scaler
    /// missed leaves replicas that arrive anyway, and those are drained like any other.
    /// </summary>
    public void Failed(ScaleAction action)
    {
        switch (action)
        {
            case ScaleAction.Add add when ElasticOf(add.Pool) is { } elastic:
                elastic.Pending = null;
                break;
            case ScaleAction.Remove remove when ElasticOf(remove.Replica.Pool) is { } elastic:
                // Still draining and still the pool's: asked again after a pause rather than forgotten, which would
                // leave its pod or server running outside the count.
                elastic.Draining.Add(new Leaving(remove.Replica, _time.GetUtcNow(), _time.GetUtcNow() + RemoveRetryDelay));
                break;
        }
    }

    /// <summary>
    /// The controller is being dropped (this gateway stopped leading): the replicas it was draining go back into
    /// rotation, since no one here will remove them now, and the new leader decides for itself.
    /// </summary>
    public void Abandon()
    {
        foreach (var elastic in _pools)
        {
            if (elastic is null)
            {
                continue;
            }

            foreach (var (replica, _, _) in elastic.Draining)
            {
                if (replica.State == ReplicaState.Draining)
                {
                    replica.SetState(ReplicaState.Ready);
                }
            }

            elastic.Draining.Clear();
        }
    }

    /// <summary>Replicas of <paramref name="pool"/> chosen to leave and not removed yet: they still hold a pod or a server.</summary>
    public int LeavingCount(Pool pool) => ElasticOf(pool)?.Draining.Count ?? 0;

    private ElasticPool? ElasticOf(Pool pool) => IndexOf(pool) is var index and >= 0 ? _pools[index] : null;

    /// <summary>
    /// What the pool counts as: its staying replicas, or the count last asked for while those replicas are on their
    /// way (a scaler whose replicas join only once a node has booted), until they arrive or the provisioning timeout
    /// passes. A source that adds its replicas at once (processes) has them all by the next tick.
    /// </summary>
    private static int Counted(ElasticPool elastic, int staying, DateTimeOffset now)
    {
        if (elastic.Pending is not { } pending)
        {
            return staying;
        }

        if (staying >= pending.Desired || now - pending.Since >= TimeSpan.FromSeconds(elastic.Options.ProvisioningTimeoutSeconds))
        {
            elastic.Pending = null;
            return staying;
        }

        return pending.Desired;
    }

    /// <summary>Replicas ready or provisioning that are not on their way out.</summary>
    private static int CountStaying(Pool pool, ElasticPool elastic)
    {
        var count = 0;
        foreach (var replica in pool.Snapshot)
        {
            if (replica.State is ReplicaState.Ready or ReplicaState.Provisioning && !elastic.IsDraining(replica))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>The last added replica that is staying: the pool's replicas are in the order they were added.</summary>
    private static Replica? Newest(Pool pool, ElasticPool elastic)
    {
        var replicas = pool.Snapshot;
        for (var r = replicas.Length - 1; r >= 0; r--)
        {
            var replica = replicas[r];
            if (replica.State is ReplicaState.Ready or ReplicaState.Provisioning && !elastic.IsDraining(replica))
            {
                return replica;
            }
        }

        return null;
    }

    private static bool Contains(Pool pool, Replica replica) => Array.IndexOf(pool.Snapshot, replica) >= 0;

    private int IndexOf(Pool pool)
    {
        for (var i = 0; i < _pools.Length; i++)
        {
            if (ReferenceEquals(Service.Pools[i], pool))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>What the controller remembers of one elastic pool between ticks.</summary>
    private sealed class ElasticPool(ScalingOptions options)
    {
        public ScalingOptions Options { get; } = options;

        public int Wanted { get; set; }

        /// <summary>The count last asked for and when, while some of those replicas have not arrived; else null.</summary>
        public (int Desired, DateTimeOffset Since)? Pending { get; set; }

        /// <summary>Since when the pool has been wanted larger than it is, or null.</summary>
        public DateTimeOffset? MoreSince { get; set; }

        /// <summary>Since when the pool has been wanted smaller than it is, or null.</summary>
        public DateTimeOffset? FewerSince { get; set; }

        /// <summary>Replicas chosen to leave, when their drain began, and when their removal may be tried.</summary>
        public List<Leaving> Draining { get; } = [];

        public bool IsDraining(Replica replica)
        {
            foreach (var (draining, _, _) in Draining)
            {
                if (ReferenceEquals(draining, replica))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>A replica on its way out: drained since <paramref name="Since"/>, removable from <paramref name="NotBefore"/>.</summary>
    private readonly record struct Leaving(Replica Replica, DateTimeOffset Since, DateTimeOffset NotBefore);
}

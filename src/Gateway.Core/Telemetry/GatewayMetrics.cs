using System.Collections.Concurrent;
using System.Globalization;
using Gateway.Configuration;
using Gateway.Model;
using Prometheus;

namespace Gateway.Telemetry;

/// <summary>
/// The gateway's Prometheus metrics: the contract an autoscaler and a dashboard read. Each instrument is
/// declared once here, in a registry of the gateway's own (tests run several gateways in one process); labels
/// are bounded (service, pool, replica, status code, reason) and children are cached per pool, so the request
/// path allocates nothing once a label set has been seen. Gauges of state (queue, demand, capacity, replicas)
/// are read from the live model when Prometheus scrapes, never updated per request.
/// </summary>
public sealed class GatewayMetrics
{
    /// <summary>The label value of requests that never reached a pool (rejected, not found).</summary>
    internal const string NoPool = "none";

    private const int MaxRecentScaleEvents = 50;

    /// <summary>
    /// Buckets of time to first token, from 10 ms to 60 s; the planner estimates its TTFT p99 in them too, as a query
    /// of this histogram would.
    /// </summary>
    internal static readonly double[] LatencyBuckets =
        [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];

    private static readonly double[] DurationBuckets =
        [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];

    private static readonly double[] QueueWaitBuckets =
        [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly Counter _requests;
    private readonly Histogram _timeToFirstToken;
    private readonly Histogram _duration;
    private readonly Counter _tokens;
    private readonly Counter _rejected;
    private readonly Counter _retries;
    private readonly Histogram _queueWait;
    private readonly Histogram _queueWaitByClass;
    private readonly Counter _scaleEvents;
    private readonly Gauge _replicaHealthy;
    private readonly Gauge _leader;
    private readonly Counter _tenantRequests;
    private readonly Counter _tenantTokens;
    private readonly Counter _tenantRejected;
    private readonly Gauge _tenantInFlight;
    private readonly Counter _cost;
    private readonly Counter _replicaSeconds;
    private readonly Gauge _budgetSpentLastHour;
    private readonly ConcurrentDictionary<string, TenantInstruments> _tenants = new();
    private readonly ConcurrentDictionary<(string Service, string Pool), PoolInstruments> _pools = new();
    private readonly ConcurrentDictionary<(string Service, string Reason), Counter.Child> _rejections = new();
    private readonly ConcurrentDictionary<string, Histogram.Child> _queueWaits = new();
    private readonly ConcurrentDictionary<(string Service, PriorityClass Priority), Histogram.Child> _queueWaitsByClass = new();
    private readonly HashSet<(string Service, string Pool, string Replica)> _replicaLabels = [];
    private readonly Queue<ScaleEvent> _recentScaleEvents = new();
    private readonly TimeProvider _time;

    /// <summary>
    /// The metrics of <paramref name="topology"/>'s services and pools, and of <paramref name="tenants"/>: every tenant a
    /// request can be counted for, whose series start at 0.
    /// </summary>
    public GatewayMetrics(GatewayTopology topology, TimeProvider time, IReadOnlyList<Tenant>? tenants = null)
    {
        _time = time;
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);

        _requests = factory.CreateCounter("gateway_requests_total", "Requests answered, by the pool that served them (none: never placed) and HTTP status.",
            ["service", "pool", "code"]);
        var inFlight = factory.CreateGauge("gateway_requests_in_flight", "Requests this gateway has in flight on a pool's replicas.", ["service", "pool"]);
        var queueDepth = factory.CreateGauge("gateway_queue_depth", "Requests waiting in the service's gateway queue.", ["service"]);
        _queueWait = factory.CreateHistogram("gateway_queue_wait_seconds", "Time requests waited in the gateway queue before a replica took them.",
            new HistogramConfiguration { LabelNames = ["service"], Buckets = QueueWaitBuckets });

        // Beside the per-service histogram rather than a label added to it, so queries of that one stay as they are.
        _queueWaitByClass = factory.CreateHistogram("gateway_queue_wait_by_class_seconds",
            "Time requests waited in the gateway queue before a replica took them, by their tenant's priority class.",
            new HistogramConfiguration { LabelNames = ["service", "class"], Buckets = QueueWaitBuckets });
        _timeToFirstToken = factory.CreateHistogram("gateway_time_to_first_token_seconds",
            "Time from the request's arrival to the first generated text (streams) or the first body byte (plain answers).",
            new HistogramConfiguration { LabelNames = ["service", "pool"], Buckets = LatencyBuckets });
        _duration = factory.CreateHistogram("gateway_request_duration_seconds", "Time from the request's arrival to the end of its answer.",
            new HistogramConfiguration { LabelNames = ["service", "pool"], Buckets = DurationBuckets });
        _tokens = factory.CreateCounter("gateway_tokens_total", "Tokens by kind (prompt, completion), from the backends' usage.", ["service", "pool", "kind"]);
        var demand = factory.CreateGauge("gateway_service_demand", "Requests in flight plus requests queued: what the service is asked to carry now.", ["service"]);
        var capacity = factory.CreateGauge("gateway_pool_capacity", "Slots (free and busy) on the pool's ready replicas.", ["service", "pool"]);
        var replicas = factory.CreateGauge("gateway_pool_replicas", "Replicas of the pool by state.", ["service", "pool", "state"]);
        var desired = factory.CreateGauge("gateway_pool_desired_replicas", "Replicas the pool should have now.", ["service", "pool"]);
        var minReplicas = factory.CreateGauge("gateway_pool_min_replicas",
            "Replicas the pool keeps however low demand is: an elastic pool's scaling minimum, a fixed pool's configured count.", ["service", "pool"]);
        var maxReplicas = factory.CreateGauge("gateway_pool_max_replicas",
            "Replicas the pool never goes beyond: an elastic pool's scaling maximum, a fixed pool's configured count (absent when the cluster decides it).",
            ["service", "pool"]);
        _scaleEvents = factory.CreateCounter("gateway_scale_events_total", "Scale-out and scale-in decisions.", ["service", "pool", "direction"]);
        _replicaHealthy = factory.CreateGauge("gateway_replica_healthy", "1 while the replica passes health checks, else 0.", ["service", "pool", "replica"]);
        _leader = factory.CreateGauge("gateway_leader",
            "1 while this gateway holds the leader Lease and makes the scaling calls, else 0; exported only with leader election.", ["identity"]);
        _rejected = factory.CreateCounter("gateway_rejected_total",
            "Requests the gateway answered itself, by reason (queue_full, queue_timeout, bad_request, not_found, too_large, unavailable).",
            ["service", "reason"]);
        _retries = factory.CreateCounter("gateway_retries_total", "Requests moved to another replica before any byte reached the client, by reason.",
            ["service", "pool", "reason"]);
        _tenantRequests = factory.CreateCounter("gateway_tenant_requests_total",
            "Requests answered, by the tenant whose key they carried (anonymous without keys), the service (none: not found) and HTTP status.",
            ["tenant", "service", "code"]);
        _tenantTokens = factory.CreateCounter("gateway_tenant_tokens_total", "Tokens by tenant and kind (prompt, completion), from the backends' usage.",
            ["tenant", "kind"]);
        _tenantRejected = factory.CreateCounter("gateway_tenant_rejected_total",
            "Requests of a known tenant the gateway answered itself, by reason (rate_limited_requests, rate_limited_tokens, rate_limited_concurrency, the queue's and the others of gateway_rejected_total).",
            ["tenant", "reason"]);
        _tenantInFlight = factory.CreateGauge("gateway_tenant_requests_in_flight",
            "Requests of a tenant placed on a replica and not yet answered (waiting requests are not counted).", ["tenant"]);
        _cost = factory.CreateCounter("gateway_cost_total",
            "What the pool has cost, in the currency of its Cost prices: its replicas' time (ready, provisioning, draining) and its answers' tokens.",
            ["service", "pool"]);
        _replicaSeconds = factory.CreateCounter("gateway_pool_replica_seconds_total",
            "Seconds the GPU pool's replicas were ready, provisioning or draining, summed over its replicas: what PerReplicaHour is paid for.",
            ["service", "pool"]);
        _budgetSpentLastHour = factory.CreateGauge("gateway_budget_spent_last_hour",
            "What the service's cloud GPU and provider pools cost over the last hour, against its Budget:MaxPerHour.", ["service"]);
        RequestLogDropped = factory.CreateCounter("gateway_request_log_dropped_total",
            "Request log lines never written: the log's queue was full, or the file could not be written (see the gateway's log).");
        var budgetMax = factory.CreateGauge("gateway_budget_max_per_hour",
            "The service's Budget:MaxPerHour; exported only for services with a budget.", ["service"]);
        foreach (var tenant in tenants ?? [])
        {
            Tenant(tenant).StartRejectionsAtZero();
        }

        foreach (var service in topology.Services)
        {
            // Every reason has its series at 0 from start, so an alert tells "none yet" from "not exported".
            foreach (var reason in RejectionReasons.All)
            {
                _rejections[(service.Name, reason)] = _rejected.WithLabels(service.Name, reason);
            }

            foreach (var priority in Enum.GetValues<PriorityClass>())
            {
                QueueWaitOf(service.Name, priority);
            }

            if (service.Options.Budget is { } budget)
            {
                budgetMax.WithLabels(service.Name).Set(budget.MaxPerHour);
                BudgetSpentLastHour(service.Name);
            }

            foreach (var pool in service.Pools)
            {
                Pool(service.Name, pool.Name).StartRetriesAtZero();
                Cost(service.Name, pool.Name);
                if (!pool.IsProvider)
                {
                    ReplicaSeconds(service.Name, pool.Name);
                }

                // Configuration, fixed for the gateway's life: set once, so an alert can compare desired with max.
                minReplicas.WithLabels(service.Name, pool.Name).Set(pool.MinReplicas);
                if (pool.MaxReplicas is { } max)
                {
                    maxReplicas.WithLabels(service.Name, pool.Name).Set(max);
                }
            }
        }

        // State gauges are read from the live model at scrape time: exact, and free on the request path.
        Registry.AddBeforeCollectCallback(() =>
        {
            var seen = new HashSet<(string, string, string)>();
            foreach (var service in topology.Services)
            {
                var serviceInFlight = 0;
                foreach (var pool in service.Pools)
                {
                    var (poolInFlight, poolCapacity, ready, provisioning, draining) = (0, 0, 0, 0, 0);
                    foreach (var replica in pool.Replicas)
                    {
                        poolInFlight += replica.InFlight;
                        switch (replica.State)
                        {
                            case ReplicaState.Ready:
                                ready++;
                                poolCapacity += replica.Capacity;
                                break;
                            case ReplicaState.Provisioning:
                                provisioning++;
                                break;
                            case ReplicaState.Draining:
                                draining++;
                                break;
                        }

                        var key = (service.Name, pool.Name, replica.Id);
                        seen.Add(key);
                        _replicaHealthy.WithLabels(service.Name, pool.Name, replica.Id).Set(replica.IsHealthy ? 1 : 0);
                    }

                    serviceInFlight += poolInFlight;
                    inFlight.WithLabels(service.Name, pool.Name).Set(poolInFlight);
                    capacity.WithLabels(service.Name, pool.Name).Set(poolCapacity);
                    replicas.WithLabels(service.Name, pool.Name, "ready").Set(ready);
                    replicas.WithLabels(service.Name, pool.Name, "provisioning").Set(provisioning);
                    replicas.WithLabels(service.Name, pool.Name, "draining").Set(draining);
                    desired.WithLabels(service.Name, pool.Name).Set(pool.DesiredReplicas);
                }

                var queued = service.Waiting;
                queueDepth.WithLabels(service.Name).Set(queued);
                demand.WithLabels(service.Name).Set(serviceInFlight + queued);
            }

            // Replicas that are gone leave no series behind.
            lock (_replicaLabels)
            {
                foreach (var old in _replicaLabels)
                {
                    if (!seen.Contains(old))
                    {
                        _replicaHealthy.RemoveLabelled(old.Service, old.Pool, old.Replica);
                    }
                }

                _replicaLabels.Clear();
                _replicaLabels.UnionWith(seen);
            }
        });
    }

    /// <summary>Records whether this gateway, named <paramref name="identity"/> in the leader Lease, leads now.</summary>
    public void Leading(string identity, bool leading) => _leader.WithLabels(identity).Set(leading ? 1 : 0);

    /// <summary>The <c>gateway_request_log_dropped_total</c> counter: request log lines never written.</summary>
    internal Counter RequestLogDropped { get; }

    /// <summary>The registry the admin listener's <c>/metrics</c> exports.</summary>
    internal CollectorRegistry Registry { get; }

    /// <summary>The instruments of one pool (or of <see cref="NoPool"/>), created once and cached.</summary>
    internal PoolInstruments Pool(string service, string pool) =>
        _pools.GetOrAdd((service, pool), static (key, metrics) => new PoolInstruments(metrics, key.Service, key.Pool), this);

    /// <summary>
    /// The instruments of one tenant, created once and cached. Only tenants of the configuration (and
    /// <see cref="Model.Tenant.Anonymous"/>) exist, so the <c>tenant</c> label is bounded by it.
    /// </summary>
    internal TenantInstruments Tenant(Tenant tenant) =>
        _tenants.GetOrAdd(tenant.Name, static (name, metrics) => new TenantInstruments(metrics, name), this);

    /// <summary>The <c>gateway_cost_total</c> series of one configured pool, which only the cost meter moves (and caches).</summary>
    internal Counter.Child Cost(string service, string pool) => _cost.WithLabels(service, pool);

    /// <summary>The <c>gateway_pool_replica_seconds_total</c> series of one configured GPU pool, for the cost meter.</summary>
    internal Counter.Child ReplicaSeconds(string service, string pool) => _replicaSeconds.WithLabels(service, pool);

    /// <summary>The <c>gateway_budget_spent_last_hour</c> series of a service with a budget, for the cost meter.</summary>
    internal Gauge.Child BudgetSpentLastHour(string service) => _budgetSpentLastHour.WithLabels(service);

    /// <summary>Counts a request the gateway answered itself; <paramref name="reason"/> is one of <see cref="RejectionReasons"/>.</summary>
    internal void Rejected(string service, string reason) =>
        _rejections.GetOrAdd((service, reason), static (key, counter) => counter.WithLabels(key.Service, key.Reason), _rejected).Inc();

    /// <summary>Records how long a placed request of class <paramref name="priority"/> waited in the queue.</summary>
    internal void QueueWait(string service, PriorityClass priority, TimeSpan waited)
    {
        _queueWaits.GetOrAdd(service, static (name, histogram) => histogram.WithLabels(name), _queueWait).Observe(waited.TotalSeconds);
        QueueWaitOf(service, priority).Observe(waited.TotalSeconds);
    }

    private Histogram.Child QueueWaitOf(string service, PriorityClass priority) =>
        _queueWaitsByClass.GetOrAdd((service, priority), static (key, histogram) => histogram.WithLabels(key.Service, ClassLabel(key.Priority)), _queueWaitByClass);

    /// <summary>The <c>class</c> label of <paramref name="priority"/>: <c>critical</c>, <c>standard</c>, <c>sheddable</c>.</summary>
    internal static string ClassLabel(PriorityClass priority) => priority switch
    {
        PriorityClass.Critical => "critical",
        PriorityClass.Standard => "standard",
        _ => "sheddable",
    };

    /// <summary>Counts a scale decision and keeps it among the recent ones <c>/admin/status</c> shows.</summary>
    internal void ScaleEvent(string service, string pool, string direction)
    {
        _scaleEvents.WithLabels(service, pool, direction).Inc();
        lock (_recentScaleEvents)
        {
            _recentScaleEvents.Enqueue(new ScaleEvent(_time.GetUtcNow(), service, pool, direction));
            while (_recentScaleEvents.Count > MaxRecentScaleEvents)
            {
                _recentScaleEvents.Dequeue();
            }
        }
    }

    /// <summary>The most recent scale decisions, oldest first.</summary>
    internal IReadOnlyList<ScaleEvent> RecentScaleEvents()
    {
        lock (_recentScaleEvents)
        {
            return [.. _recentScaleEvents];
        }
    }

    /// <summary>The children of one pool's labelled instruments.</summary>
    internal sealed class PoolInstruments
    {
        private readonly GatewayMetrics _metrics;
        private readonly string _service;
        private readonly string _pool;
        private readonly ConcurrentDictionary<int, Counter.Child> _byStatus = new();
        private readonly ConcurrentDictionary<string, Counter.Child> _retriesByReason = new();

        public PoolInstruments(GatewayMetrics metrics, string service, string pool)
        {
            _metrics = metrics;
            _service = service;
            _pool = pool;
            TimeToFirstToken = metrics._timeToFirstToken.WithLabels(service, pool);
            Duration = metrics._duration.WithLabels(service, pool);
            PromptTokens = metrics._tokens.WithLabels(service, pool, "prompt");
            CompletionTokens = metrics._tokens.WithLabels(service, pool, "completion");
        }

        public Histogram.Child TimeToFirstToken { get; }

        public Histogram.Child Duration { get; }

        public Counter.Child PromptTokens { get; }

        public Counter.Child CompletionTokens { get; }

        /// <summary>Counts an answered request by its status code.</summary>
        public void Answered(int statusCode) =>
            _byStatus.GetOrAdd(statusCode, static (code, self) =>
                self._metrics._requests.WithLabels(self._service, self._pool, code.ToString(CultureInfo.InvariantCulture)), this).Inc();

        /// <summary>Every request the pool has answered so far, whatever its status: the sum of its <c>gateway_requests_total</c> series.</summary>
        public long AnsweredSoFar()
        {
            var total = 0.0;
            foreach (var (_, counter) in _byStatus)
            {
                total += counter.Value;
            }

            return (long)total;
        }

        /// <summary>
        /// Creates the series of every retry reason at 0. Only for configured pools: <see cref="NoPool"/> never
        /// retries, so it gets no retry series.
        /// </summary>
        public void StartRetriesAtZero()
        {
            foreach (var reason in RetryReasons.All)
            {
                _retriesByReason.GetOrAdd(reason, RetrySeries, this);
            }
        }

        private static Counter.Child RetrySeries(string reason, PoolInstruments self) => self._metrics._retries.WithLabels(self._service, self._pool, reason);

        /// <summary>Counts a request moved off this pool's replica; <paramref name="reason"/> is one of <see cref="RetryReasons"/>.</summary>
        public void Retried(string reason) =>
            _retriesByReason.GetOrAdd(reason, RetrySeries, this).Inc();
    }

    /// <summary>The children of one tenant's labelled instruments.</summary>
    internal sealed class TenantInstruments
    {
        private readonly Counter _requests;
        private readonly Counter _rejected;
        private readonly string _tenant;
        private readonly ConcurrentDictionary<(string Service, int Code), Counter.Child> _byServiceAndStatus = new();
        private readonly ConcurrentDictionary<string, Counter.Child> _rejectedByReason = new();

        public TenantInstruments(GatewayMetrics metrics, string tenant)
        {
            _requests = metrics._tenantRequests;
            _rejected = metrics._tenantRejected;
            _tenant = tenant;
            PromptTokens = metrics._tenantTokens.WithLabels(tenant, "prompt");
            CompletionTokens = metrics._tenantTokens.WithLabels(tenant, "completion");
            InFlight = metrics._tenantInFlight.WithLabels(tenant);
        }

        public Counter.Child PromptTokens { get; }

        public Counter.Child CompletionTokens { get; }

        /// <summary>The tenant's requests on a replica now: up when one is placed, down when its answer has ended.</summary>
        public Gauge.Child InFlight { get; }

        /// <summary>The tenant's answers so far with a status below 400, from every service: what the backends served it.</summary>
        public long ServedSoFar()
        {
            var total = 0.0;
            foreach (var ((_, code), counter) in _byServiceAndStatus)
            {
                if (code < 400)
                {
                    total += counter.Value;
                }
            }

            return (long)total;
        }

        /// <summary>The tenant's requests the gateway turned away so far, for <paramref name="reason"/> (one of <see cref="RejectionReasons"/>).</summary>
        public long RejectedSoFar(string reason) => (long)RejectedSeries(reason).Value;

        /// <summary>Counts an answer to the tenant from <paramref name="service"/> (or <see cref="NoPool"/>) by its status code.</summary>
        public void Answered(string service, int statusCode) =>
            _byServiceAndStatus.GetOrAdd((service, statusCode), static (key, self) =>
                self._requests.WithLabels(self._tenant, key.Service, key.Code.ToString(CultureInfo.InvariantCulture)), this).Inc();

        /// <summary>Counts a request of the tenant the gateway turned away; <paramref name="reason"/> is one of <see cref="RejectionReasons"/>.</summary>
        public void Rejected(string reason) => RejectedSeries(reason).Inc();

        /// <summary>Creates the series of every rejection reason at 0, so an alert tells "none yet" from "not exported".</summary>
        public void StartRejectionsAtZero()
        {
            foreach (var reason in RejectionReasons.All)
            {
                RejectedSeries(reason);
            }
        }

        private Counter.Child RejectedSeries(string reason) =>
            _rejectedByReason.GetOrAdd(reason, static (reason, self) => self._rejected.WithLabels(self._tenant, reason), this);
    }
}

/// <summary>One scale decision: when, for which pool, and which way (<c>out</c> or <c>in</c>).</summary>
internal sealed record ScaleEvent(DateTimeOffset At, string Service, string Pool, string Direction);

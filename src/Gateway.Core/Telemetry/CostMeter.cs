using Gateway.Configuration;
using Gateway.Model;
using Prometheus;

namespace Gateway.Telemetry;

/// <summary>
/// Counts what each pool costs in money, by its <see cref="PoolOptions.Cost"/> prices, and keeps each service within its
/// <see cref="ServiceOptions.Budget"/>. Every pool is charged the same two ways: its replicas' time
/// (<see cref="CostOptions.PerReplicaHour"/> for every second a replica is ready, provisioning or draining, measured on
/// each <see cref="Tick"/>) and its answers' tokens (<see cref="CostOptions.PerMillionPromptTokens"/> and
/// <see cref="CostOptions.PerMillionCompletionTokens"/>, charged by <see cref="Answered"/> from their usage). A GPU pool
/// is priced by the hour and a hosted API by the token, but neither is a special case here.
/// </summary>
/// <remarks>
/// A service's budget counts its cloud GPU pools and its hosted APIs over a sliding hour (<see cref="SpendWindow"/>);
/// on-prem pools are paid for already and never count. Once the hour's spend reaches <see cref="BudgetOptions.MaxPerHour"/>
/// the service's <see cref="InferenceService.BudgetSpent"/> is set, so its providers take nothing new and its cloud pools
/// are not scaled out; once the hour has slid below it again, it is cleared and the service's pools wake their queue, so a
/// bridge takes the requests kept waiting. The budget is checked on every tick (the hour slides with no charge) and right
/// after each token charge (a small budget stops a provider within an answer of being spent).
/// </remarks>
internal sealed class CostMeter
{
    private const double TokensPerMillion = 1_000_000;
    private const double SecondsPerHour = 3600;

    private readonly TimeProvider _time;
    private readonly PoolCost[] _pools;
    private readonly ServiceBudget?[] _budgets;
    private readonly Dictionary<Pool, PoolCost> _byPool = new(ReferenceEqualityComparer.Instance);
    private DateTimeOffset _lastTick;

    /// <summary>The meter of <paramref name="topology"/>'s pools, exported through <paramref name="metrics"/>; time starts now.</summary>
    public CostMeter(GatewayTopology topology, GatewayMetrics metrics, TimeProvider time)
    {
        _time = time;
        _lastTick = time.GetUtcNow();
        var pools = new List<PoolCost>();
        _budgets = new ServiceBudget?[topology.Services.Count];
        foreach (var service in topology.Services)
        {
            var counted = new List<PoolCost>();
            foreach (var pool in service.Pools)
            {
                var cost = new PoolCost(pool, metrics);
                pools.Add(cost);
                _byPool.Add(pool, cost);
                if (pool.IsProvider || pool.Location == PoolLocation.Cloud)
                {
                    counted.Add(cost);
                }
            }

            if (service.Options.Budget is { } options)
            {
                var budget = new ServiceBudget(service, options.MaxPerHour, [.. counted], metrics.BudgetSpentLastHour(service.Name));
                _budgets[service.Index] = budget;
                foreach (var cost in counted)
                {
                    cost.Budget = budget;
                }
            }
        }

        _pools = [.. pools];
    }

    /// <summary>
    /// Charges <paramref name="pool"/> for an answer that used <paramref name="promptTokens"/> and
    /// <paramref name="completionTokens"/> (its usage), and checks its service's budget at once. Allocates nothing.
    /// </summary>
    public void Answered(Pool pool, long promptTokens, long completionTokens)
    {
        if (!_byPool.TryGetValue(pool, out var cost))
        {
            return;
        }

        var amount = (promptTokens * cost.Prices.PerMillionPromptTokens + completionTokens * cost.Prices.PerMillionCompletionTokens) / TokensPerMillion;
        if (amount <= 0)
        {
            return;
        }

        var now = _time.GetUtcNow();
        cost.Counter.Inc(amount);
        cost.Tokens.Add(now, amount);
        cost.Budget?.Check(now);
    }

    /// <summary>
    /// Charges every pool for its replicas' time since the last tick (the replicas it has now, for all of that time), and
    /// checks every budget. Called once a second by <see cref="CostSampler"/>, from one thread.
    /// </summary>
    public void Tick()
    {
        var now = _time.GetUtcNow();
        var since = _lastTick;
        var seconds = (now - since).TotalSeconds;
        _lastTick = now;
        if (seconds > 0)
        {
            foreach (var cost in _pools)
            {
                var replicaSeconds = Active(cost.Pool) * seconds;
                if (replicaSeconds <= 0)
                {
                    continue;
                }

                cost.ReplicaSeconds?.Inc(replicaSeconds);
                var amount = replicaSeconds * cost.Prices.PerReplicaHour / SecondsPerHour;
                if (amount > 0)
                {
                    cost.Counter.Inc(amount);

                    // The time measured began at the last tick: charged there, so an hour of replica time never
                    // reads more than an hour's price.
                    cost.Time.Add(since, amount);
                }
            }
        }

        foreach (var budget in _budgets)
        {
            budget?.Check(now);
        }
    }

    /// <summary>What <paramref name="pool"/> has cost so far and costs now.</summary>
    public PoolCostStatus Read(Pool pool)
    {
        var cost = _byPool[pool];
        var now = _time.GetUtcNow();
        var tokensLastHour = cost.Tokens.Total(now);

        // The rate of its replicas now, plus what its tokens cost over the last hour: a GPU pool's price of the hour
        // ahead if nothing changes, a hosted API's of the hour behind.
        var perHour = Active(pool) * cost.Prices.PerReplicaHour + tokensLastHour;
        return new PoolCostStatus(cost.Counter.Value, cost.Time.Total(now) + tokensLastHour, perHour, cost.ReplicaSeconds?.Value);
    }

    /// <summary>The budget of <paramref name="service"/> and what the last hour spent of it; null without a budget.</summary>
    public BudgetStatus? Budget(InferenceService service) =>
        _budgets[service.Index] is { } budget ? new BudgetStatus(budget.MaxPerHour, budget.SpentLastHour(_time.GetUtcNow()), service.BudgetSpent) : null;

    /// <summary>Replicas that cost: ready, provisioning (a node booting is paid for) or draining.</summary>
    private static int Active(Pool pool)
    {
        var count = 0;
        foreach (var replica in pool.Snapshot)
        {
            if (replica.State is ReplicaState.Ready or ReplicaState.Provisioning or ReplicaState.Draining)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>One pool's prices, its cached series and what it spent over the last hour, by replica time and by tokens.</summary>
    private sealed class PoolCost(Pool pool, GatewayMetrics metrics)
    {
        public Pool Pool { get; } = pool;

        public CostOptions Prices { get; } = pool.Options.Cost;

        public Counter.Child Counter { get; } = metrics.Cost(pool.ServiceName, pool.Name);

        /// <summary>Null for a hosted API: it has no replicas of the gateway's to count.</summary>
        public Counter.Child? ReplicaSeconds { get; } = pool.IsProvider ? null : metrics.ReplicaSeconds(pool.ServiceName, pool.Name);

        public SpendWindow Time { get; } = new();

        public SpendWindow Tokens { get; } = new();

        /// <summary>The budget of the pool's service when the pool counts toward one: checked after each token charge.</summary>
        public ServiceBudget? Budget { get; set; }
    }

    /// <summary>A service's budget and the pools it counts.</summary>
    private sealed class ServiceBudget(InferenceService service, double maxPerHour, PoolCost[] counted, Gauge.Child gauge)
    {
        private readonly Lock _lock = new();

        public double MaxPerHour { get; } = maxPerHour;

        public double SpentLastHour(DateTimeOffset now)
        {
            var spent = 0.0;
            foreach (var cost in counted)
            {
                spent += cost.Time.Total(now) + cost.Tokens.Total(now);
            }

            return spent;
        }

        /// <summary>Sets or clears the service's <see cref="InferenceService.BudgetSpent"/> by the hour up to <paramref name="now"/>.</summary>
        public void Check(DateTimeOffset now)
        {
            bool freed;
            lock (_lock)
            {
                // Under the lock, so a tick and an answer checking at once cannot leave the flag on an older reading.
                var spent = SpentLastHour(now);
                gauge.Set(spent);
                var wasSpent = service.BudgetSpent;
                var isSpent = spent >= MaxPerHour;
                service.BudgetSpent = isSpent;
                freed = wasSpent && !isSpent;
            }

            if (freed)
            {
                // Outside the lock: the queue's listeners place waiting requests, and a bridge may take them again.
                foreach (var pool in service.Pools)
                {
                    pool.OnCapacityFreed();
                }
            }
        }
    }
}

/// <summary>
/// What a pool has cost: <paramref name="Total"/> since start, <paramref name="LastHour"/> over the sliding hour,
/// <paramref name="PerHour"/> at the current rate, and <paramref name="ReplicaSeconds"/> of its replicas (null for a hosted API).
/// </summary>
internal readonly record struct PoolCostStatus(double Total, double LastHour, double PerHour, double? ReplicaSeconds);

/// <summary>A service's <paramref name="MaxPerHour"/>, what the last hour <paramref name="SpentLastHour"/>, and whether it is <paramref name="Spent"/>.</summary>
internal readonly record struct BudgetStatus(double MaxPerHour, double SpentLastHour, bool Spent);

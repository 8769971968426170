using Gateway.Admission;
using Gateway.Configuration;
using Gateway.Model;

namespace Gateway.Planning;

/// <summary>What one replay gives an operator to compare plans by.</summary>
/// <param name="Answered">Requests that got an answer.</param>
/// <param name="Rejected">Requests the gateway turned away, by reason (<c>queue_full</c>, <c>queue_timeout</c>, <c>shed</c>).</param>
/// <param name="OnPremShare">Share of the answers served by on-prem pools (<see cref="PoolLocation.OnPrem"/>).</param>
/// <param name="ServedByPool">Answers per pool.</param>
/// <param name="ReplicaSecondsByPool">Seconds of replicas provisioning, ready or draining, per pool.</param>
/// <param name="CloudReplicaSeconds">Those of the cloud GPU pools (not providers).</param>
/// <param name="Cost">
/// Replica-seconds priced at each pool's <c>Cost:PerReplicaHour</c>, plus a provider's answers priced per million prompt
/// and completion tokens.
/// </param>
/// <param name="TimeToFirstToken">p50 and p99 in seconds: from arrival to the first token (a plain answer's end).</param>
/// <param name="TimeToFirstTokenHistogramP99">
/// The p99 of time to first token as the gateway's <c>gateway_time_to_first_token_seconds</c> histogram gives it,
/// interpolated inside its buckets as <c>histogram_quantile</c> does: what a dashboard or a drill reads.
/// </param>
/// <param name="QueueWaitP99">p99 of the time waited in the queue, in seconds.</param>
/// <param name="Simulated">Virtual time from the start to the last answer.</param>
/// <param name="FirstServedByPool">When each pool began its first answer, from the start: the cloud's boot, seen by a client.</param>
/// <param name="Demand">
/// Each request a GPU replica answered: its arrival and its time on the replica, in seconds (what a fleet that never
/// queued would have served when). Answers from providers are not GPU work and are left out.
/// </param>
internal sealed record ReplayResult(
    int Answered,
    IReadOnlyDictionary<string, int> Rejected,
    double OnPremShare,
    IReadOnlyDictionary<string, int> ServedByPool,
    IReadOnlyDictionary<string, double> ReplicaSecondsByPool,
    double CloudReplicaSeconds,
    double Cost,
    (double P50, double P99) TimeToFirstToken,
    double TimeToFirstTokenHistogramP99,
    double QueueWaitP99,
    TimeSpan Simulated,
    IReadOnlyDictionary<string, TimeSpan> FirstServedByPool,
    IReadOnlyList<(double Arrival, double Service)> Demand);

/// <summary>Counts a replay's answers, rejections and replica-seconds as they happen.</summary>
internal sealed class ReplayRecorder(GatewayTopology topology, VirtualClock clock)
{
    private readonly List<double> _firstTokens = [];
    private readonly List<double> _queueWaits = [];
    private readonly Dictionary<string, int> _rejected = new(StringComparer.Ordinal);
    private readonly Dictionary<Pool, int> _served = [];
    private readonly Dictionary<Pool, double> _replicaSeconds = [];
    private readonly Dictionary<Pool, TimeSpan> _firstServed = [];
    private readonly List<(double Arrival, double Service)> _demand = [];
    private double _tokenCost;
    private TimeSpan _accounted;

    /// <summary>Adds each pool's replica-seconds from the last call to <paramref name="until"/>: replica counts change only between calls.</summary>
    public void Account(TimeSpan until)
    {
        if (until <= _accounted)
        {
            return;
        }

        var seconds = (until - _accounted).TotalSeconds;
        _accounted = until;
        foreach (var service in topology.Services)
        {
            foreach (var pool in service.Pools)
            {
                var counted = 0;
                foreach (var replica in pool.Replicas)
                {
                    if (replica.State is ReplicaState.Provisioning or ReplicaState.Ready or ReplicaState.Draining)
                    {
                        counted++;
                    }
                }

                if (counted > 0 && !pool.IsProvider)
                {
                    _replicaSeconds[pool] = _replicaSeconds.GetValueOrDefault(pool) + (counted * seconds);
                }
            }
        }
    }

    /// <summary>An answer of <paramref name="promptTokens"/> and <paramref name="completionTokens"/> from <paramref name="pool"/> after <paramref name="queueWait"/> in the queue.</summary>
    public void Answered(Pool pool, TimeSpan queueWait, TimeSpan firstToken, TimeSpan duration, int promptTokens, int completionTokens)
    {
        _served[pool] = _served.GetValueOrDefault(pool) + 1;
        _firstServed.TryAdd(pool, clock.Elapsed - duration + queueWait);
        _queueWaits.Add(queueWait.TotalSeconds);
        if (pool.IsProvider)
        {
            var price = pool.Options.Cost;
            _tokenCost += ((promptTokens * (price?.PerMillionPromptTokens ?? 0)) + (completionTokens * (price?.PerMillionCompletionTokens ?? 0))) / 1e6;
        }
        else
        {
            _demand.Add(((clock.Elapsed - duration).TotalSeconds, (duration - queueWait).TotalSeconds));
        }

        _firstTokens.Add(firstToken.TotalSeconds);
    }

    /// <summary>A request the queue turned away.</summary>
    public void Rejected(AdmissionFailure failure)
    {
        var reason = failure switch
        {
            AdmissionFailure.QueueFull => "queue_full",
            AdmissionFailure.QueueTimeout => "queue_timeout",
            AdmissionFailure.Shed => "shed",
            _ => failure.ToString(),
        };
        _rejected[reason] = _rejected.GetValueOrDefault(reason) + 1;
    }

    /// <summary>The replay's figures, <paramref name="lastAnswer"/> being when its last answer ended.</summary>
    public ReplayResult Result(TimeSpan lastAnswer)
    {
        Account(clock.Elapsed);
        var answered = _served.Values.Sum();
        var onPrem = _served.Where(s => s.Key.Location == PoolLocation.OnPrem && !s.Key.IsProvider).Sum(s => s.Value);
        var cloud = _replicaSeconds.Where(r => r.Key.Location == PoolLocation.Cloud).Sum(r => r.Value);
        var cost = _replicaSeconds.Sum(r => r.Value / 3600 * (r.Key.Options.Cost?.PerReplicaHour ?? 0)) + _tokenCost;
        _firstTokens.Sort();
        _queueWaits.Sort();
        return new ReplayResult(
            answered,
            _rejected,
            answered == 0 ? 0 : (double)onPrem / answered,
            _served.ToDictionary(s => s.Key.Name, s => s.Value),
            _replicaSeconds.ToDictionary(r => r.Key.Name, r => Math.Round(r.Value, 1)),
            Math.Round(cloud, 1),
            cost,
            (Percentile(_firstTokens, 0.50), Percentile(_firstTokens, 0.99)),
            HistogramQuantile(_firstTokens, Telemetry.GatewayMetrics.LatencyBuckets, 0.99),
            Percentile(_queueWaits, 0.99),
            lastAnswer,
            _firstServed.ToDictionary(f => f.Key.Name, f => f.Value),
            _demand);
    }

    /// <summary>
    /// The <paramref name="quantile"/> of sorted <paramref name="values"/> estimated from their counts in
    /// <paramref name="buckets"/> (upper bounds), linear inside the bucket it falls in, as Prometheus's
    /// <c>histogram_quantile</c> does; past the last bucket, its bound. 0 when there are none.
    /// </summary>
    public static double HistogramQuantile(List<double> values, IReadOnlyList<double> buckets, double quantile)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var rank = quantile * values.Count;
        var (lower, below) = (0.0, 0);
        foreach (var upper in buckets)
        {
            var count = values.Count(v => v <= upper);
            if (count >= rank)
            {
                return lower + ((upper - lower) * (rank - below) / Math.Max(count - below, 1e-9));
            }

            (lower, below) = (upper, count);
        }

        return lower;
    }

    /// <summary>The nearest-rank percentile of sorted <paramref name="values"/>; 0 when there are none.</summary>
    public static double Percentile(List<double> values, double quantile) =>
        values.Count == 0 ? 0 : values[Math.Clamp((int)Math.Ceiling(quantile * values.Count) - 1, 0, values.Count - 1)];
}

using System.Globalization;
using Gateway.LoadTests.Targets;

namespace Gateway.LoadTests.Drills;

/// <summary>
/// What the gateway's own metrics say about a peak, read from the samples of its admin <c>/metrics</c> (times in
/// seconds from the start of the load, at the sampling interval's resolution; null when it did not happen).
/// </summary>
internal sealed record PeakFigures(
    int Samples,
    double SampleIntervalSeconds,
    IReadOnlyDictionary<string, double> ServedByPool,
    double OnPremShare,
    double CloudShare,
    double ProviderShare,
    double OnPremFullShareOfSamples,
    double? FirstQueuedAt,
    double? FirstScaleOutAt,
    double? FirstScaleOutEventAt,
    double? QueuedToScaleOutSeconds,
    double? FirstCloudServedAt,
    double CloudReplicaSeconds,
    int PeakCloudReplicas,
    int CloudMinReplicas,
    double LoadEndedAt,
    double SampledUntil,
    double? BackToMinAfterLoadSeconds,
    PeakFigures.GatewayTtft GatewayTtftMs,
    PeakFigures.GatewayTtft QueueWaitMs,
    IReadOnlyDictionary<string, double> CostByPool,
    IReadOnlyList<PeakFigures.TimelinePoint> Timeline)
{
    private const string Requests = "gateway_requests_total";
    private const string QueueDepth = "gateway_queue_depth";
    private const string QueueWaitBucket = "gateway_queue_wait_seconds_bucket";
    private const string QueueWaitCount = "gateway_queue_wait_seconds_count";
    private const string ScaleEvents = "gateway_scale_events_total";
    private const string Replicas = "gateway_pool_replicas";
    private const string InFlight = "gateway_requests_in_flight";
    private const string Capacity = "gateway_pool_capacity";
    private const string TtftBucket = "gateway_time_to_first_token_seconds_bucket";
    private const string Cost = "gateway_cost_total";

    /// <summary>
    /// Reads the figures from <paramref name="samples"/> of <paramref name="layout"/>'s service, taken every
    /// <paramref name="interval"/>, the load having ended at <paramref name="loadEndedAt"/>; <paramref name="scaleOutEventAt"/>
    /// is the first scale-out by the gateway's own event log (exact, not sampled), if it has one.
    /// </summary>
    public static PeakFigures From(IReadOnlyList<MetricsSample> samples, ServiceLayout layout, double loadEndedAt, TimeSpan interval, double? scaleOutEventAt)
    {
        var service = ("service", (string?)layout.Service);
        var first = samples[0];
        var last = samples[^1];
        var onPrem = layout.OnPrem.Select(p => p.Name).ToArray();
        var cloud = layout.Cloud.Select(p => p.Name).ToArray();
        double SumOf(MetricsSample sample, string name, string[] pools, params (string, string?)[] labels) =>
            pools.Sum(pool => sample.Sum(name, [service, ("pool", pool), .. labels]));

        var served = layout.Pools.ToDictionary(p => p.Name, p => last.Sum(Requests, service, ("pool", p.Name)) - first.Sum(Requests, service, ("pool", p.Name)));
        var onPremServed = onPrem.Sum(p => served[p]);
        var cloudServed = cloud.Sum(p => served[p]);
        var providerServed = layout.Providers.Sum(p => served[p.Name]);
        var total = onPremServed + cloudServed + providerServed;

        // What each pool cost over the span (0 where the gateway prices nothing), in the configuration's currency.
        var cost = layout.Pools.ToDictionary(p => p.Name, p => Math.Round(last.Sum(Cost, service, ("pool", p.Name)) - first.Sum(Cost, service, ("pool", p.Name)), 4));

        // Queued: a request waiting at the scrape, or one that waited (more than the first bucket's 1 ms) in between.
        double Waited(MetricsSample s) => s.Sum(QueueWaitCount, service) - s.Sum(QueueWaitBucket, service, ("le", "0.001"));
        var firstQueued = FirstAt(samples, s => s.Sum(QueueDepth, service) > 0 || Waited(s) > Waited(first));
        var firstScaleOut = FirstAt(samples, s => SumOf(s, ScaleEvents, cloud, ("direction", "out")) > SumOf(first, ScaleEvents, cloud, ("direction", "out")));
        var firstCloudServed = FirstAt(samples, s => SumOf(s, Requests, cloud) > SumOf(first, Requests, cloud));

        // Replica-seconds: every cloud replica that exists costs, booting and draining ones too; trapezoids between samples,
        // from the load's start to the last sample (the pool back at its minimum, or the settle timeout).
        double CloudReplicas(MetricsSample s) => SumOf(s, Replicas, cloud);
        var replicaSeconds = 0.0;
        for (var i = 1; i < samples.Count; i++)
        {
            replicaSeconds += (samples[i].At - samples[i - 1].At) * (CloudReplicas(samples[i]) + CloudReplicas(samples[i - 1])) / 2;
        }

        var cloudMin = layout.Cloud.Sum(p => p.MinReplicas);
        var peakReplicas = (int)samples.Max(CloudReplicas);
        var backToMin = FirstAt(samples.Where(s => s.At >= loadEndedAt).ToList(), s => CloudReplicas(s) <= cloudMin);

        // On-prem at capacity: the share of samples during the load (after its first second) with every on-prem slot busy.
        var duringLoad = samples.Where(s => s.At >= 1 && s.At <= loadEndedAt).ToList();
        var full = duringLoad.Count(s => SumOf(s, Capacity, onPrem) > 0 && SumOf(s, InFlight, onPrem) >= SumOf(s, Capacity, onPrem));

        return new PeakFigures(
            samples.Count,
            interval.TotalSeconds,
            served,
            Share(onPremServed, total),
            Share(cloudServed, total),
            Share(providerServed, total),
            duringLoad.Count == 0 ? 0 : Math.Round((double)full / duringLoad.Count, 3),
            firstQueued,
            firstScaleOut,
            scaleOutEventAt,
            firstQueued is not null && firstScaleOut is not null ? Math.Round(firstScaleOut.Value - firstQueued.Value, 3) : null,
            firstCloudServed,
            Math.Round(replicaSeconds, 1),
            peakReplicas,
            cloudMin,
            Math.Round(loadEndedAt, 3),
            Math.Round(last.At, 3),
            backToMin is null ? null : Math.Round(backToMin.Value - loadEndedAt, 3),
            GatewayTtft.From(first, last, layout.Service),
            GatewayTtft.From(first, last, layout.Service, QueueWaitBucket),
            cost,
            [.. samples.Select(s => new TimelinePoint(
                s.At,
                s.Sum(QueueDepth, service),
                SumOf(s, InFlight, onPrem),
                SumOf(s, InFlight, cloud),
                SumOf(s, Replicas, cloud, ("state", "ready")),
                SumOf(s, Replicas, cloud, ("state", "provisioning")),
                SumOf(s, Replicas, cloud, ("state", "draining")),
                SumOf(s, Requests, onPrem) - SumOf(first, Requests, onPrem),
                SumOf(s, Requests, cloud) - SumOf(first, Requests, cloud)))]);
    }

    /// <summary>One sample of the peak, for a chart: queue, in flight per tier, cloud replicas by state, answers so far per tier.</summary>
    internal sealed record TimelinePoint(
        double At, double Queued, double OnPremInFlight, double CloudInFlight, double CloudReady, double CloudProvisioning, double CloudDraining,
        double ServedOnPrem, double ServedCloud);

    private static double Share(double part, double total) => total == 0 ? 0 : Math.Round(part / total, 4);

    private static double? FirstAt(IReadOnlyList<MetricsSample> samples, Func<MetricsSample, bool> condition) =>
        samples.FirstOrDefault(condition)?.At;

    /// <summary>
    /// One of the gateway's histograms (TTFT, or queue wait) over the load (the difference of two scrapes, every pool), read as Prometheus'
    /// <c>histogram_quantile</c> does: linear inside the bucket, so the figure is as coarse as the buckets (10 ms..60 s).
    /// </summary>
    internal sealed record GatewayTtft(double Count, double? P50, double? P90, double? P99)
    {
        public static GatewayTtft From(MetricsSample before, MetricsSample after, string service, string histogram = TtftBucket)
        {
            var buckets = Buckets(after, service, histogram);
            var earlier = Buckets(before, service, histogram);
            var delta = buckets.Select(b => (Le: b.Key, Count: b.Value - earlier.GetValueOrDefault(b.Key))).OrderBy(b => b.Le).ToList();
            var count = delta.Count == 0 ? 0 : delta[^1].Count;
            return new GatewayTtft(count, Quantile(delta, 0.5), Quantile(delta, 0.9), Quantile(delta, 0.99));
        }

        private static Dictionary<double, double> Buckets(MetricsSample sample, string service, string histogram)
        {
            var buckets = new Dictionary<double, double>();
            foreach (var (key, value) in sample.Values)
            {
                if (!key.StartsWith(histogram + "{", StringComparison.Ordinal) || !key.Contains($"service=\"{service}\"", StringComparison.Ordinal))
                {
                    continue;
                }

                var at = key.IndexOf("le=\"", StringComparison.Ordinal) + 4;
                var le = key[at..key.IndexOf('"', at)];
                var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
                buckets[bound] = buckets.GetValueOrDefault(bound) + value;
            }

            return buckets;
        }

        private static double? Quantile(List<(double Le, double Count)> buckets, double q)
        {
            if (buckets.Count == 0 || buckets[^1].Count <= 0)
            {
                return null;
            }

            var rank = q * buckets[^1].Count;
            var (lower, below) = (0.0, 0.0);
            foreach (var (le, count) in buckets)
            {
                if (count >= rank)
                {
                    var seconds = double.IsPositiveInfinity(le) ? lower : lower + ((le - lower) * (rank - below) / Math.Max(count - below, 1e-9));
                    return Math.Round(seconds * 1000, 1);
                }

                (lower, below) = (le, count);
            }

            return Math.Round(lower * 1000, 1);
        }
    }
}

using Gateway.LoadTests.Engine;
using Gateway.LoadTests.Targets;

namespace Gateway.LoadTests.Drills.Tenants;

/// <summary>
/// <c>priority</c>: the Critical tenant <c>chat</c> (2 streaming clients) alone, then with the Sheddable tenant
/// <c>batch</c> (20 plain clients) flooding the same service, on the demo's fleet. Chat's time to first token is read at
/// the client in both parts, each after a settling time; the target is a p99 under the flood at most
/// <see cref="TargetRatio"/> times the p99 alone. The Sheddable class is configured as an operator protecting chat would:
/// it does not scale the cloud out (<c>ScalesCloud</c> false, as in config/examples/tenants.json: a flood of batch work
/// is not a reason to buy cloud GPUs), and it fills at most half of a replica's slots (<c>MaxSlotShare</c> 0.5), so a
/// chat request finds a slot free instead of waiting for a batch answer to end. <c>--set
/// Gateway:Classes:Sheddable:MaxSlotShare=1</c> shows the gateway without it.
/// </summary>
internal static class PriorityPhase
{
    public const double TargetRatio = 1.2;

    public static readonly DrillTenant Chat = new("chat", "Critical", "Any", 2, Streamed: true, MaxTokens: 10);

    public static readonly DrillTenant Batch = new("batch", "Sheddable", "Any", 20, Streamed: false, MaxTokens: 10);

    /// <summary>The phase's own class settings; the command line's <c>--set</c> come after them and win.</summary>
    public static readonly IReadOnlyList<string> ClassSettings = ["Gateway:Classes:Sheddable:ScalesCloud=false", "Gateway:Classes:Sheddable:MaxSlotShare=0.5"];

    public static async Task<PriorityResult> RunAsync(string configPath, TenantsSettings settings, IReadOnlyList<string> overrides, CancellationToken cancellationToken)
    {
        DrillTenant[] tenants = [Chat, Batch];
        List<string> classes = [.. ClassSettings.Select(c => "--" + c), .. overrides.Where(o => o.StartsWith("--Gateway:Classes:", StringComparison.Ordinal))];
        await using var gateway = await TenantGateway.StartAsync("priority", configPath, tenants, [.. classes, .. overrides], settings.Host, cancellationToken);
        using var client = LoadClient.Create(Timeout.InfiniteTimeSpan);
        TenantRequest[] Clients(DrillTenant tenant) =>
            [.. Enumerable.Range(0, tenant.Clients).Select(_ => new TenantRequest(client, gateway.PublicAddress, settings.Host, tenant, settings.Body, settings.ClientDeadline))];

        var start = await gateway.ScrapeAsync(cancellationToken);
        var aloneFrom = gateway.Now;
        gateway.Log($"chat alone: {Chat}");
        var chat = TenantLoad.Start(Clients(Chat), gateway.Origin, cancellationToken);
        TenantLoad? batch = null;
        IReadOnlyList<TenantRecord> records;
        double floodFrom, floodTo;
        MetricsSample atFlood;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(settings.AloneSeconds), cancellationToken);
            atFlood = await gateway.ScrapeAsync(cancellationToken);
            floodFrom = gateway.Now;
            gateway.Log($"batch floods: {Batch}");
            batch = TenantLoad.Start(Clients(Batch), gateway.Origin, cancellationToken);
            await Task.Delay(TimeSpan.FromSeconds(settings.FloodSeconds), cancellationToken);
            floodTo = gateway.Now;
            gateway.Log("load stopped; waiting for the requests under way");
        }
        finally
        {
            records = [.. await chat.StopAsync(), .. batch is null ? [] : await batch.StopAsync()];
        }

        var end = await gateway.ScrapeAsync(cancellationToken);
        var alone = FirstTokens(records, aloneFrom + settings.SettleSeconds, floodFrom);
        var flood = FirstTokens(records, floodFrom + settings.SettleSeconds, floodTo);
        var counts = TenantCounts.Of(tenants, records);
        return new PriorityResult(
            Chat,
            Batch,
            [.. classes.Select(c => c["--Gateway:".Length..])],
            Math.Round(floodFrom - aloneFrom, 3),
            Math.Round(floodTo - floodFrom, 3),
            alone,
            flood,
            Ratio(flood.P50, alone.P50),
            Ratio(flood.P99, alone.P99),
            TargetRatio,
            records.Count(r => r.Tenant == Batch.Name && r.Verdict.Kind == Chaos.VerdictKind.Completed && r.EndedAt <= floodTo),
            counts.Values.Sum(c => c.Lost),
            counts,
            gateway.Tally(start, atFlood),
            gateway.Tally(atFlood, end),
            QueueWait.Of(start, atFlood, gateway.Layout.Service),
            QueueWait.Of(atFlood, end, gateway.Layout.Service),
            gateway.Rejected(start, end));
    }

    /// <summary>The first-token times of chat's completed streams that started in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    private static Percentiles FirstTokens(IReadOnlyList<TenantRecord> records, double from, double to)
    {
        var histogram = ScenarioRunner.NewHistogram();
        foreach (var record in records)
        {
            if (record.Tenant == Chat.Name && record.FirstTokenMs is { } ms && record.StartedAt >= from && record.StartedAt < to)
            {
                histogram.RecordValue(Math.Max(1, (long)(ms * 1000)));
            }
        }

        return Percentiles.FromMicroseconds(histogram);
    }

    private static double? Ratio(double over, double under) => under > 0 ? Math.Round(over / under, 3) : null;
}

/// <summary>
/// The priority phase: the two tenants, chat's TTFT alone and under the flood (client-side, completed streams started
/// after the settling time of each part) and their ratios, batch's completions during the flood, every request's fate,
/// and what each pool answered alone and under the flood.
/// </summary>
internal sealed record PriorityResult(
    DrillTenant Chat,
    DrillTenant Batch,
    IReadOnlyList<string> Classes,
    double AloneSeconds,
    double FloodSeconds,
    Percentiles ChatFirstTokenAloneMs,
    Percentiles ChatFirstTokenUnderFloodMs,
    double? P50Ratio,
    double? P99Ratio,
    double TargetP99Ratio,
    long BatchCompletedDuringFlood,
    long Lost,
    IReadOnlyDictionary<string, TenantCounts> Tenants,
    IReadOnlyDictionary<string, PoolTally> PoolsAlone,
    IReadOnlyDictionary<string, PoolTally> PoolsUnderFlood,
    QueueWait ChatQueueWaitAlone,
    QueueWait ChatQueueWaitUnderFlood,
    IReadOnlyDictionary<string, long> RejectedByReason);

/// <summary>
/// How long the Critical class's requests waited in the gateway's queue before a replica took them, from
/// <c>gateway_queue_wait_by_class_seconds{class="critical"}</c> between two scrapes: how many were placed, and how many
/// of them within <see cref="Within"/> seconds. The gateway's own view of what the priority phase is about, free of the
/// client's and the replicas' share of the machine: a request that finds a slot free is placed in well under a
/// millisecond, one that waits for an answer to end waits tenths of a second.
/// </summary>
internal sealed record QueueWait(long Placed, long PlacedWithin50Ms, double? ShareWithin50Ms)
{
    public const string Within = "0.05";

    public static QueueWait Of(MetricsSample before, MetricsSample after, string service)
    {
        const string Histogram = "gateway_queue_wait_by_class_seconds";
        double Delta(string metric, params (string, string?)[] labels)
        {
            (string, string?)[] all = [("service", service), ("class", "critical"), .. labels];
            return after.Sum(metric, all) - before.Sum(metric, all);
        }

        var placed = (long)Delta(Histogram + "_count");
        var within = (long)Delta(Histogram + "_bucket", ("le", Within));
        return new QueueWait(placed, within, placed == 0 ? null : Math.Round((double)within / placed, 4));
    }
}

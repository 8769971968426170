using System.Text.Json.Nodes;
using Gateway.LoadTests.Drills.Chaos;

namespace Gateway.LoadTests.Drills.Tenants;

/// <summary>
/// <c>fairness</c>: two Standard tenants offering load 1:10 (2 and 20 plain clients) to the on-prem replica alone, so
/// the queue always holds both and decides who gets each freed slot. The cloud pool is taken out of a copy of the
/// configuration: the gateway scales a cloud pool on the requests in flight whatever their class
/// (<c>ScalesCloud</c> false only leaves queued ones out), and with more slots than twice the light tenant's clients
/// its share would be capped by its own closed loop (a tenant cannot hold more slots than it has requests), which
/// measures the clients, not the queue. The target: each tenant's share of the completions at least
/// <see cref="TargetShare"/>.
/// </summary>
internal static class FairnessPhase
{
    public const double TargetShare = 0.4;

    public static readonly DrillTenant Light = new("light", "Standard", "Any", 2, Streamed: false, MaxTokens: 10);

    public static readonly DrillTenant Heavy = new("heavy", "Standard", "Any", 20, Streamed: false, MaxTokens: 10);

    public static async Task<FairnessResult> RunAsync(string configPath, TenantsSettings settings, IReadOnlyList<string> overrides, CancellationToken cancellationToken)
    {
        DrillTenant[] tenants = [Light, Heavy];
        var onPremOnly = WithoutCloudPools(configPath);
        try
        {
            await using var gateway = await TenantGateway.StartAsync("fairness", onPremOnly, tenants, overrides, settings.Host, cancellationToken);
            var start = await gateway.ScrapeAsync(cancellationToken);
            gateway.Log($"{Light.Name}: {Light}; {Heavy.Name}: {Heavy}");
            var (records, from, to) = await TenantLoad.RunAsync(gateway, tenants, settings, settings.FairnessSeconds, cancellationToken);

            var end = await gateway.ScrapeAsync(cancellationToken);

            // Completions while both loaded, after the first requests settled: the backlog left at the end is the heavy tenant's.
            var measured = records.Where(r => r.Verdict.Kind == VerdictKind.Completed && r.EndedAt > from + settings.SettleSeconds && r.EndedAt <= to).ToList();
            var completed = tenants.ToDictionary(t => t.Name, t => (long)measured.Count(r => r.Tenant == t.Name));
            var shares = tenants.ToDictionary(t => t.Name, t => measured.Count == 0 ? 0 : Math.Round((double)completed[t.Name] / measured.Count, 4));
            var counts = TenantCounts.Of(tenants, records);
            return new FairnessResult(
                Light,
                Heavy,
                "the on-prem pool alone (cloud pools removed from a copy of the configuration)",
                gateway.Layout.Pools.Sum(p => p.CapacityPerReplica),
                Math.Round(to - from, 3),
                completed,
                shares,
                shares.Values.Min(),
                TargetShare,
                counts.Values.Sum(c => c.Lost),
                counts,
                gateway.Tally(start, end),
                gateway.Rejected(start, end));
        }
        finally
        {
            File.Delete(onPremOnly);
        }
    }

    /// <summary>A copy of <paramref name="configPath"/> in the temp folder whose services keep only their pools of the lowest priority number.</summary>
    private static string WithoutCloudPools(string configPath)
    {
        var config = JsonNode.Parse(File.ReadAllText(configPath), documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!;
        foreach (var service in config["Gateway"]!["Services"]!.AsArray())
        {
            var pools = service!["Pools"]!.AsArray();
            var first = pools.Min(p => Priority(p!));
            foreach (var cloud in pools.Where(p => Priority(p!) != first).ToList())
            {
                pools.Remove(cloud);
            }
        }

        var path = Path.Combine(Path.GetTempPath(), $"tenants-fairness-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }

    private static int Priority(JsonNode pool) => pool["Priority"]?.GetValue<int>() ?? 0;
}

/// <summary>
/// The fairness phase: the two tenants, the capacity they contended for, each tenant's completions while both loaded
/// (after the settling time, before the load stopped) and its share of them, every request's fate, and the pools' counts.
/// </summary>
internal sealed record FairnessResult(
    DrillTenant Light,
    DrillTenant Heavy,
    string Capacity,
    int Slots,
    double LoadSeconds,
    IReadOnlyDictionary<string, long> Completed,
    IReadOnlyDictionary<string, double> Shares,
    double MinShare,
    double TargetShare,
    long Lost,
    IReadOnlyDictionary<string, TenantCounts> Tenants,
    IReadOnlyDictionary<string, PoolTally> Pools,
    IReadOnlyDictionary<string, long> RejectedByReason);

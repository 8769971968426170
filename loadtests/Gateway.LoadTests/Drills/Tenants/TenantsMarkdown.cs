using System.Globalization;
using System.Text;
using Gateway.LoadTests.Reports;

namespace Gateway.LoadTests.Drills.Tenants;

/// <summary>A tenants run as Markdown: a table per phase and a line on how it was taken.</summary>
internal static class TenantsMarkdown
{
    public static string Render(TenantsResult run)
    {
        var text = new StringBuilder();
        if (run.Priority is { } p)
        {
            var (alone, flood) = (p.ChatFirstTokenAloneMs, p.ChatFirstTokenUnderFloodMs);
            text.AppendLine("### priority").AppendLine()
                .AppendLine(new MarkdownTable("chat TTFT (client)", "streams", "p50 ms", "p90 ms", "p99 ms", "max ms")
                    .Row($"alone ({p.Chat})", alone.Count, alone.P50, alone.P90, alone.P99, alone.Max)
                    .Row($"under the flood ({p.Batch.Clients} batch clients)", flood.Count, flood.P50, flood.P90, flood.P99, flood.Max)
                    .Row("ratio flood / alone", "", p.P50Ratio, "", p.P99Ratio, "")
                    .ToString())
                .AppendLine(Inv($"Chat's requests placed within 50 ms of arriving (the gateway's queue wait): {QueueWait(p.ChatQueueWaitAlone)} alone, {QueueWait(p.ChatQueueWaitUnderFlood)} under the flood."))
                .AppendLine()
                .AppendLine(Inv($"Target p99 ratio <= {p.TargetP99Ratio}: **{(p.P99Ratio <= p.TargetP99Ratio ? "met" : "missed")}**. Batch completed {MarkdownTable.Cell(p.BatchCompletedDuringFlood)} during the {p.FloodSeconds:0} s flood ({Pools(p.PoolsUnderFlood)}); chat alone {p.AloneSeconds:0} s ({Pools(p.PoolsAlone)}); {string.Join(", ", p.Classes)} (the last of a key wins)."))
                .AppendLine()
                .AppendLine(Fates(p.Tenants, p.Lost, p.RejectedByReason));
        }

        if (run.Fairness is { } f)
        {
            var table = new MarkdownTable("tenant", "clients", "completed while both loaded", "share");
            foreach (var tenant in new[] { f.Light, f.Heavy })
            {
                table.Row($"{tenant.Name} (Standard)", tenant.Clients, f.Completed[tenant.Name], Inv($"{f.Shares[tenant.Name] * 100:0.0} %"));
            }

            text.AppendLine("### fairness").AppendLine().AppendLine(table.ToString())
                .AppendLine(Inv($"Target each share >= {f.TargetShare * 100:0} %: **{(f.MinShare >= f.TargetShare ? "met" : "missed")}**. {f.LoadSeconds:0} s against {f.Capacity}, {f.Slots} slots; {Pools(f.Pools)}."))
                .AppendLine()
                .AppendLine(Fates(f.Tenants, f.Lost, f.RejectedByReason));
        }

        if (run.Residency is { } r)
        {
            var table = new MarkdownTable("pool", "cloud", $"{r.Resident.Name} (OnPremOnly)", $"{r.General.Name} (Any)");
            foreach (var (pool, count) in r.ByPool)
            {
                table.Row(pool, r.CloudPools.Contains(pool), count.Resident, count.General);
            }

            var met = r.ResidentOnCloud == 0 && r.GeneralOnCloud > 0;
            text.AppendLine("### residency").AppendLine().AppendLine(table.ToString())
                .AppendLine(Inv($"Target {r.Resident.Name} on the cloud 0 and the cloud serving {r.General.Name}: **{(met ? "met" : "missed")}** ({r.ResidentOnCloud} and {r.GeneralOnCloud}). Counts agree exactly with the clients': {MarkdownTable.Cell(r.CountsMatchClients)}. {r.LoadSeconds:0} s; method: {r.Method}."))
                .AppendLine()
                .AppendLine(Fates(r.Tenants, r.Lost, r.RejectedByReason));
        }

        var s = run.Settings;
        return text.AppendLine(Inv($"Each phase against a fresh gateway (Auth:Mode ApiKeys, keys made at run time, their SHA-256 in the configuration); closed-loop clients; each request given {s.ClientDeadlineSeconds:0} s to answer whole (lost beyond); a clean error's Retry-After honoured up to {s.RetryAfterCapSeconds:0} s; TTFT and shares measured after {s.SettleSeconds:0.#} s of each part.")).ToString();
    }

    private static string Fates(IReadOnlyDictionary<string, TenantCounts> tenants, long lost, IReadOnlyDictionary<string, long> rejected)
    {
        var parts = tenants.Select(t => Inv(
            $"{t.Key} {MarkdownTable.Cell(t.Value.Requests)} requests: {MarkdownTable.Cell(t.Value.Completed)} completed, {MarkdownTable.Cell(t.Value.CleanErrors)} clean errors{By(t.Value.CleanErrorsByCode)}, {MarkdownTable.Cell(t.Value.Lost)} lost{By(t.Value.LostByReason)}"));
        return $"Lost: **{lost}**. {string.Join("; ", parts)}. Gateway rejections: {(rejected.Count == 0 ? "none" : string.Join(", ", rejected.Select(x => $"{x.Key} {x.Value}")))}.";
    }

    private static string QueueWait(QueueWait wait) =>
        Inv($"{wait.PlacedWithin50Ms} of {wait.Placed}{(wait.ShareWithin50Ms is { } share ? $" ({share * 100:0.#} %)" : "")}");

    private static string Pools(IReadOnlyDictionary<string, PoolTally> pools) =>
        string.Join(", ", pools.Select(p => $"{p.Key} answered {MarkdownTable.Cell(p.Value.Answers)}"));

    private static string By(IReadOnlyDictionary<string, long> counts) =>
        counts.Count == 0 ? "" : " (" + string.Join(", ", counts.Select(c => $"{c.Key}: {c.Value}")) + ")";

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

using Gateway.LoadTests.Drills.Chaos;

namespace Gateway.LoadTests.Drills.Tenants;

/// <summary>
/// What became of one tenant's requests in a phase: completed, clean errors by code, lost by reason (with a few examples
/// to find out why). Every request is exactly one of the three.
/// </summary>
internal sealed record TenantCounts(
    long Requests,
    long Completed,
    long CleanErrors,
    IReadOnlyDictionary<string, long> CleanErrorsByCode,
    long Lost,
    IReadOnlyDictionary<string, long> LostByReason,
    IReadOnlyList<string> LostExamples)
{
    private const int Examples = 5;

    /// <summary>The counts of each tenant of <paramref name="tenants"/> in <paramref name="records"/>.</summary>
    public static SortedDictionary<string, TenantCounts> Of(IEnumerable<DrillTenant> tenants, IReadOnlyList<TenantRecord> records)
    {
        var counts = new SortedDictionary<string, TenantCounts>(StringComparer.Ordinal);
        foreach (var tenant in tenants)
        {
            var mine = records.Where(r => r.Tenant == tenant.Name).ToList();
            var clean = mine.Where(r => r.Verdict.Kind == VerdictKind.CleanError).ToList();
            var lost = mine.Where(r => r.Verdict.Kind != VerdictKind.Completed && r.Verdict.Kind != VerdictKind.CleanError).ToList();
            counts[tenant.Name] = new TenantCounts(
                mine.Count,
                mine.Count(r => r.Verdict.Kind == VerdictKind.Completed),
                clean.Count,
                PhaseResult.Count(clean.Select(ToChaos), r => r.Verdict.Code!),
                lost.Count,
                PhaseResult.Count(lost.Select(ToChaos), r => r.Verdict.Reason ?? "refused"),
                [.. lost.Take(Examples).Select(r => $"{r.StartedAt:0.000}-{r.EndedAt:0.000} s: {r.Verdict.Reason}: {r.Verdict.Detail}")]);
        }

        return counts;
    }

    private static RequestRecord ToChaos(TenantRecord record) => new(false, record.StartedAt, record.EndedAt, record.Verdict);
}

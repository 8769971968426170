namespace Gateway.LoadTests.Drills.Tenants;

/// <summary>
/// <c>residency</c>: an <c>OnPremOnly</c> tenant (<c>resident</c>, 3 plain clients) beside a tenant that may run anywhere
/// (<c>general</c>, 5 plain clients) on the demo's fleet, so on-prem overflows and the cloud pool scales out and serves
/// the spill. Where each tenant's requests ran is counted exactly from the gateway's per-pool counters, through the
/// tokens: <c>resident</c> asks for <see cref="ResidentMaxTokens"/> completion tokens and <c>general</c> for
/// <see cref="GeneralMaxTokens"/>, and the simulator answers exactly <c>max_tokens</c>, so on each pool
/// <c>gateway_tokens_total{kind="completion"}</c> − <see cref="GeneralMaxTokens"/> × <c>gateway_requests_total{code="200"}</c>
/// is the number of <c>resident</c>'s answers there, and the rest are <c>general</c>'s. The counts are checked against
/// what each tenant's clients completed; the target is 0 of <c>resident</c>'s on a cloud pool, and some of <c>general</c>'s.
/// </summary>
internal static class ResidencyPhase
{
    public const int GeneralMaxTokens = 10;

    public const int ResidentMaxTokens = GeneralMaxTokens + 1;

    public const string Method =
        "per pool, from the gateway's counters over the phase: resident = gateway_tokens_total{kind=completion} - 10 x gateway_requests_total{code=200} " +
        "(resident asks for 11 completion tokens, general for 10, and every answer has exactly max_tokens); general = the 200s - resident; " +
        "exact when the sums over the pools equal what each tenant's clients completed";

    public static readonly DrillTenant Resident = new("resident", "Standard", "OnPremOnly", 3, Streamed: false, MaxTokens: ResidentMaxTokens);

    public static readonly DrillTenant General = new("general", "Standard", "Any", 5, Streamed: false, MaxTokens: GeneralMaxTokens);

    public static async Task<ResidencyResult> RunAsync(string configPath, TenantsSettings settings, IReadOnlyList<string> overrides, CancellationToken cancellationToken)
    {
        DrillTenant[] tenants = [Resident, General];
        await using var gateway = await TenantGateway.StartAsync("residency", configPath, tenants, overrides, settings.Host, cancellationToken);
        var start = await gateway.ScrapeAsync(cancellationToken);
        gateway.Log($"{Resident.Name}: {Resident}, OnPremOnly; {General.Name}: {General}");
        var (records, from, to) = await TenantLoad.RunAsync(gateway, tenants, settings, settings.ResidencySeconds, cancellationToken);

        var end = await gateway.ScrapeAsync(cancellationToken);
        var pools = gateway.Tally(start, end);
        var byPool = new SortedDictionary<string, ResidencyCount>(StringComparer.Ordinal);
        foreach (var (pool, tally) in pools)
        {
            var resident = tally.CompletionTokens - (GeneralMaxTokens * tally.Ok);
            byPool[pool] = new ResidencyCount(resident, tally.Ok - resident);
        }

        var cloud = gateway.Layout.Cloud.Select(p => p.Name).ToHashSet();
        var counts = TenantCounts.Of(tenants, records);
        var exact = byPool.Values.Sum(c => c.Resident) == counts[Resident.Name].Completed
            && byPool.Values.Sum(c => c.General) == counts[General.Name].Completed
            && byPool.Values.All(c => c.Resident >= 0 && c.General >= 0);
        return new ResidencyResult(
            Resident,
            General,
            Math.Round(to - from, 3),
            Method,
            byPool,
            [.. cloud.Order(StringComparer.Ordinal)],
            byPool.Where(p => cloud.Contains(p.Key)).Sum(p => p.Value.Resident),
            byPool.Where(p => cloud.Contains(p.Key)).Sum(p => p.Value.General),
            exact,
            counts.Values.Sum(c => c.Lost),
            counts,
            pools,
            gateway.Rejected(start, end));
    }
}

/// <summary>Answers of each tenant on one pool.</summary>
internal sealed record ResidencyCount(long Resident, long General);

/// <summary>
/// The residency phase: the two tenants, how the per-tenant counts were taken, each pool's counts per tenant, the cloud's
/// totals, whether the counts agree exactly with the clients', every request's fate, and the raw pool counters.
/// </summary>
internal sealed record ResidencyResult(
    DrillTenant Resident,
    DrillTenant General,
    double LoadSeconds,
    string Method,
    IReadOnlyDictionary<string, ResidencyCount> ByPool,
    IReadOnlyList<string> CloudPools,
    long ResidentOnCloud,
    long GeneralOnCloud,
    bool CountsMatchClients,
    long Lost,
    IReadOnlyDictionary<string, TenantCounts> Tenants,
    IReadOnlyDictionary<string, PoolTally> Pools,
    IReadOnlyDictionary<string, long> RejectedByReason);

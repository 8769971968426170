namespace Gateway.LoadTests.Drills.Tenants;

/// <summary>
/// What every phase of a tenants run shares, defaults filled in, in seconds: the priority phase's time line (the Critical
/// tenant alone, then under the flood, each measured after a settling time), the fairness and residency loads, and each
/// request's deadline at the client.
/// </summary>
internal sealed record TenantsSettings(
    string Host,
    string Body,
    double SettleSeconds,
    double AloneSeconds,
    double FloodSeconds,
    double FairnessSeconds,
    double ResidencySeconds,
    double ClientDeadlineSeconds,
    double RetryAfterCapSeconds)
{
    public TimeSpan ClientDeadline => TimeSpan.FromSeconds(ClientDeadlineSeconds);

    /// <summary>
    /// Full: chat alone for 20 s, then 40 s of flood, 40 s of fairness and of residency, the first 2 s of each part not
    /// measured for TTFT. Short: 5 s, 8 s, 10 s and 10 s, 1 s settling. <c>--duration</c> sets the flood, fairness and
    /// residency loads, and chat alone for half of it.
    /// </summary>
    public static TenantsSettings From(DrillOptions options)
    {
        var load = options.Duration?.TotalSeconds;
        return new TenantsSettings(
            options.Host ?? PeakDrill.DefaultHost,
            options.Body ?? Targets.ChatRequest.SeedBody,
            options.Short ? 1 : 2,
            load / 2 ?? (options.Short ? 5 : 20),
            load ?? (options.Short ? 8 : 40),
            load ?? (options.Short ? 10 : 40),
            load ?? (options.Short ? 10 : 40),
            Chaos.ChaosSettings.DeadlineSeconds,
            Chaos.ChaosLoad.MaxRetryAfter.TotalSeconds);
    }
}

namespace Gateway.LoadTests.Drills.Tenants;

/// <summary>
/// The tenants drill: what issue 13's tenants should show under load, each phase against a freshly started gateway (the
/// demo's fleet, <c>Auth:Mode</c> <c>ApiKeys</c>, the phase's tenants with keys made at run time; the short scaling
/// overrides in the short form): <c>priority</c> (a Critical tenant's TTFT alone and under a Sheddable flood),
/// <c>fairness</c> (two Standard tenants at 1:10 sharing saturated capacity) and <c>residency</c> (an on-prem-only tenant
/// while the cloud serves another's spill). Every request of every phase is classified: completed, a clean error, or lost.
/// </summary>
internal static class TenantsDrill
{
    public static readonly IReadOnlyList<string> PhaseNames = ["priority", "fairness", "residency"];

    public static async Task<TenantsResult> RunAsync(DrillOptions options, CancellationToken cancellationToken)
    {
        var settings = TenantsSettings.From(options);
        var configPath = options.ConfigPath ?? Repository.DemoConfigPath;
        List<string> overrides = [.. options.Short ? Repository.ShortScalingOverrides(configPath) : [], .. options.Overrides];
        var phases = options.Phases ?? PhaseNames;
        PriorityResult? priority = null;
        FairnessResult? fairness = null;
        ResidencyResult? residency = null;
        foreach (var phase in phases)
        {
            switch (phase)
            {
                case "priority":
                    priority = await PriorityPhase.RunAsync(configPath, settings, overrides, cancellationToken);
                    break;
                case "fairness":
                    // Its copy of the configuration has no elastic pool left for the scaling overrides to name.
                    fairness = await FairnessPhase.RunAsync(configPath, settings, options.Overrides, cancellationToken);
                    break;
                default:
                    residency = await ResidencyPhase.RunAsync(configPath, settings, overrides, cancellationToken);
                    break;
            }
        }

        return new TenantsResult(settings, [.. phases], priority, fairness, residency);
    }
}

/// <summary>A tenants run: the settings the phases shared, which phases ran, and each one's figures (null when it did not run).</summary>
internal sealed record TenantsResult(
    TenantsSettings Settings, IReadOnlyList<string> Phases, PriorityResult? Priority, FairnessResult? Fairness, ResidencyResult? Residency);

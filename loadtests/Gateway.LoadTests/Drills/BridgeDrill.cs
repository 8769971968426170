using System.Globalization;

namespace Gateway.LoadTests.Drills;

/// <summary>
/// The seed's peak against <c>config/examples/bridge.json</c> (on-prem 1x2, a cloud pool that boots in 30 s, a priced
/// stand-in provider as its bridge), side by side: <c>bridge</c> as configured; <c>gpu-only</c> the same fleet with the
/// bridge never taking anything (its <c>MaxQueueWaitMs</c> at the most), so the overflow waits for the cloud's boot as
/// it does without a provider; <c>budget</c> as configured but with a budget so small the provider stops almost at
/// once. Each side reports TTFT and queue wait, the on-prem, cloud and provider shares, cloud replica-seconds and the
/// cost of every pool in the configuration's currency.
/// </summary>
internal static class BridgeDrill
{
    public const string BridgeSide = "bridge";
    public const string GpuOnlySide = "gpu-only";
    public const string BudgetSide = "budget";

    /// <summary>The budget of the <c>budget</c> side, per hour: a few dozen provider answers' worth at the example's prices.</summary>
    public const double TinyBudgetPerHour = 0.0005;

    public static readonly IReadOnlyList<string> SideNames = [BridgeSide, GpuOnlySide, BudgetSide];

    public static async Task<IReadOnlyList<PeakColumn>> RunAsync(DrillOptions options, CancellationToken cancellationToken)
    {
        var configPath = options.ConfigPath ?? Repository.BridgeConfigPath;
        options = options with { ConfigPath = configPath };
        var columns = new List<PeakColumn>();
        foreach (var side in options.Sides ?? SideNames)
        {
            var (overrides, description) = side switch
            {
                GpuOnlySide => (Repository.BridgeOverrides(configPath, "Bridge:MaxQueueWaitMs", "86400000"), "bridge takes nothing (MaxQueueWaitMs 86400000)"),
                BudgetSide => (Repository.ServiceOverrides(configPath, "Budget:MaxPerHour", TinyBudgetPerHour.ToString(CultureInfo.InvariantCulture)),
                    $"as configured, Budget:MaxPerHour {TinyBudgetPerHour.ToString(CultureInfo.InvariantCulture)}"),
                _ => ((IReadOnlyList<string>)[], "as configured"),
            };
            var peak = await PeakDrill.RunAsync(options, overrides, side, cancellationToken);
            columns.Add(new PeakColumn(side, description, peak));
        }

        return columns;
    }
}

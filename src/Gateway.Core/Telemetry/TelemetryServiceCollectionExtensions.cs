using Gateway.Model;

namespace Gateway.Telemetry;

/// <summary>Wires what telemetry measures beyond the request path's counters: the cost of every pool and the budgets.</summary>
internal static class TelemetryServiceCollectionExtensions
{
    /// <summary>Adds the <see cref="CostMeter"/> and the <see cref="CostSampler"/> that ticks it every second.</summary>
    public static IServiceCollection AddCostMeter(this IServiceCollection services)
    {
        services.AddSingleton(sp => new CostMeter(
            sp.GetRequiredService<GatewayTopology>(), sp.GetRequiredService<GatewayMetrics>(), sp.GetRequiredService<TimeProvider>()));
        return services.AddHostedService<CostSampler>();
    }
}

using Gateway.Admission;
using Gateway.Model;
using Gateway.Telemetry;
using Gateway.Tenancy;

namespace Gateway.Admin;

/// <summary>Wires what the admin listener shows beyond the live model: the recent history and its sampler.</summary>
internal static class AdminServiceCollectionExtensions
{
    /// <summary>Adds the <see cref="StatusHistory"/> behind <c>/admin/history</c> and the <see cref="StatusSampler"/> that fills it.</summary>
    public static IServiceCollection AddAdminHistory(this IServiceCollection services)
    {
        services.AddSingleton(sp => new StatusHistory(
            sp.GetRequiredService<GatewayTopology>(),
            sp.GetRequiredService<TenantDirectory>(),
            sp.GetRequiredService<ServiceQueues>(),
            sp.GetRequiredService<GatewayMetrics>(),
            sp.GetRequiredService<TimeProvider>()));
        return services.AddHostedService<StatusSampler>();
    }
}

using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Scaling;

/// <summary>Wires elastic scaling into the gateway.</summary>
internal static class ScalingServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="ScalingService"/>, which scales every elastic pool through its provider's scaler (it
    /// does nothing when no pool is elastic), as the sole leader unless a host registered another
    /// <see cref="IScalingLeadership"/> first.
    /// </summary>
    public static IServiceCollection AddScaling(this IServiceCollection services)
    {
        services.TryAddSingleton<IScalingLeadership, SoleLeadership>();
        return services.AddHostedService<ScalingService>();
    }
}

namespace Gateway.Scaling;

/// <summary>Wires elastic scaling into the gateway.</summary>
internal static class ScalingServiceCollectionExtensions
{
    /// <summary>Registers the <see cref="ScalingService"/>, which scales every elastic pool; it does nothing when no pool is elastic.</summary>
    public static IServiceCollection AddScaling(this IServiceCollection services) =>
        services.AddHostedService<ScalingService>();
}

using Gateway.Configuration;
using Gateway.Providers;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Scaling;

/// <summary>Wires elastic scaling into the gateway.</summary>
internal static class ScalingServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="ScalingService"/>, which scales every elastic pool (it does nothing when no pool is
    /// elastic), as the sole leader unless a host registered another <see cref="IScalingLeadership"/> first; and one
    /// webhook client per webhook-scaled pool, each with its own resilience pipeline, since options differ per pool.
    /// </summary>
    public static IServiceCollection AddScaling(this IServiceCollection services, GatewayOptions options)
    {
        foreach (var service in options.Services)
        {
            foreach (var pool in service.Pools)
            {
                if (pool.Scaling?.Webhook is not { } webhook)
                {
                    continue;
                }

                // The pipeline bounds each attempt; the client's own timeout would cut the retries short. No request
                // logging: the URL may carry the receiver's token.
                services.AddHttpClient(WebhookPoolScaler.ClientName(service, pool), client => client.Timeout = Timeout.InfiniteTimeSpan)
                    .RemoveAllLoggers()
                    .AddResilienceHandler("webhook", builder => WebhookPoolScaler.AddPipeline(builder, webhook));
            }
        }

        services.TryAddSingleton<IScalingLeadership, SoleLeadership>();
        return services.AddHostedService<ScalingService>();
    }
}

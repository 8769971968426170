using Gateway.Configuration;

namespace Gateway.Providers;

/// <summary>Wires the replica providers into the gateway.</summary>
internal static class ProvidersServiceCollectionExtensions
{
    /// <summary>
    /// Registers the built-in provider kinds (<c>Static</c>, <c>Process</c>, <c>Webhook</c>, <c>Provider</c>) and the hosted
    /// <see cref="ReplicaProviders"/> that makes and starts one provider per pool; and one webhook client per
    /// webhook-scaled pool, each with its own resilience pipeline, since options differ per pool. Hosts add other
    /// kinds by registering an <see cref="IReplicaProviderFactory"/>.
    /// </summary>
    public static IServiceCollection AddReplicaProviders(this IServiceCollection services, GatewayOptions options)
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

        services.AddSingleton<ChildProcessLauncher>();
        services.AddHttpClient(ReplicaProviders.ProbeClientName);
        services.AddSingleton<WebhookScalers>();
        services.AddSingleton<IReplicaProviderFactory, StaticProviderFactory>();
        services.AddSingleton<IReplicaProviderFactory, ProcessProviderFactory>();
        services.AddSingleton<IReplicaProviderFactory, WebhookProviderFactory>();
        services.AddSingleton<IReplicaProviderFactory, Hosted.HostedApiProviderFactory>();
        services.AddSingleton<ReplicaProviders>();
        return services.AddHostedService(sp => sp.GetRequiredService<ReplicaProviders>());
    }
}

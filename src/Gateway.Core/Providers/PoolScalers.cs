using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Logging;

namespace Gateway.Providers;

/// <summary>Chooses the scaler an elastic pool's configuration asks for.</summary>
internal static class PoolScalers
{
    /// <summary>The pool's scaler, or null when nothing can scale it (a Kubernetes pool without a scaler registered).</summary>
    public static IPoolScaler? Create(Pool pool, PoolOptions options, IReplicaSource source, IServiceProvider services)
    {
        if (options.Scaling?.Webhook is { } webhook)
        {
            return new WebhookPoolScaler(
                pool,
                webhook,
                services.GetRequiredService<IHttpClientFactory>().CreateClient(WebhookPoolScaler.ClientName(pool)),
                source as CandidateReplicaSource,
                services.GetRequiredService<ILogger<WebhookPoolScaler>>());
        }

        foreach (var factory in services.GetServices<IPoolScalerFactory>())
        {
            if (factory.TryCreate(pool, options, source, services) is { } scaler)
            {
                return scaler;
            }
        }

        // A source that starts its replicas itself scales its own pool.
        return source as IPoolScaler;
    }
}

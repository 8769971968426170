using Gateway.Model;
using Microsoft.Extensions.Logging;

namespace Gateway.Providers;

/// <summary>
/// Makes the scaler of a pool whose <c>Scaling:Webhook</c> is set, on the pool's own HTTP client (its resilience
/// pipeline is registered per pool with the providers). Public so that providers outside the core (Kubernetes pods
/// started through a webhook) scale the same way.
/// </summary>
public sealed class WebhookScalers(IHttpClientFactory clients, ILoggerFactory loggers)
{
    /// <summary>The webhook scaler of <paramref name="pool"/>, or null when the pool has no webhook.</summary>
    public IPoolScaler? Create(Pool pool) => CreateScaler(pool);

    internal WebhookPoolScaler? CreateScaler(Pool pool) =>
        pool.Scaling?.Webhook is { } webhook
            ? new WebhookPoolScaler(pool, webhook, clients.CreateClient(WebhookPoolScaler.ClientName(pool)), loggers.CreateLogger<WebhookPoolScaler>())
            : null;
}

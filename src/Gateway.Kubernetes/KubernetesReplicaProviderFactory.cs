using Gateway.Model;
using Gateway.Providers;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Kubernetes;

/// <summary>
/// Makes a <see cref="KubernetesReplicaProvider"/> for each pool configured with a <c>Kubernetes</c> source, with its
/// scaler: a <see cref="KubernetesPoolScaler"/> when <c>Scaling:Kubernetes</c> names a scale target, the pool's webhook
/// when <c>Scaling:Webhook</c> is set.
/// </summary>
/// <remarks>
/// The API client is resolved only when a Kubernetes pool is made: every factory is built when the gateway starts, and
/// a gateway with no Kubernetes pool must not need a cluster.
/// </remarks>
internal sealed class KubernetesReplicaProviderFactory(IServiceProvider services) : IReplicaProviderFactory
{
    public string Kind => ReplicaProviders.KubernetesKind;

    public IReplicaProvider Create(Pool pool)
    {
        var options = pool.Options;
        var client = services.GetRequiredService<IKubernetes>();
        var loggers = services.GetRequiredService<ILoggerFactory>();
        var provider = new KubernetesReplicaProvider(
            pool, options.Kubernetes!, client, services.GetRequiredService<TimeProvider>(), loggers.CreateLogger<KubernetesReplicaProvider>());
        provider.Scaler = options.Scaling switch
        {
            { Kubernetes: { } target } => new KubernetesPoolScaler(
                target.Kind,
                target.Name,
                target.Namespace.Length > 0 ? target.Namespace : provider.Namespace,
                provider,
                client,
                loggers.CreateLogger<KubernetesPoolScaler>(),
                target.SetPodDeletionCost),
            { Webhook: not null } => services.GetRequiredService<WebhookScalers>().Create(pool),
            _ => null,
        };
        return provider;
    }
}

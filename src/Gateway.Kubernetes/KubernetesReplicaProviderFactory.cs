using Gateway.Model;
using Gateway.Providers;
using k8s;
using Microsoft.Extensions.Logging;

namespace Gateway.Kubernetes;

/// <summary>
/// Makes a <see cref="KubernetesReplicaProvider"/> for each pool configured with a <c>Kubernetes</c> source, with its
/// scaler: a <see cref="KubernetesPoolScaler"/> when <c>Scaling:Kubernetes</c> names a scale target, the pool's webhook
/// when <c>Scaling:Webhook</c> is set.
/// </summary>
internal sealed class KubernetesReplicaProviderFactory(
    IKubernetes client, WebhookScalers webhooks, TimeProvider time, ILoggerFactory loggers) : IReplicaProviderFactory
{
    public string Kind => ReplicaProviders.KubernetesKind;

    public IReplicaProvider Create(Pool pool)
    {
        var options = pool.Options;
        var provider = new KubernetesReplicaProvider(pool, options.Kubernetes!, client, time, loggers.CreateLogger<KubernetesReplicaProvider>());
        provider.Scaler = options.Scaling?.Kubernetes is { } target
            ? new KubernetesPoolScaler(
                target.Kind,
                target.Name,
                target.Namespace.Length > 0 ? target.Namespace : provider.Namespace,
                provider,
                client,
                loggers.CreateLogger<KubernetesPoolScaler>())
            : webhooks.Create(pool);
        return provider;
    }
}

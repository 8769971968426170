using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Kubernetes;

/// <summary>Makes a <see cref="KubernetesReplicaSource"/> for each pool configured with a Kubernetes source.</summary>
internal sealed class KubernetesReplicaSourceFactory : IReplicaSourceFactory
{
    public IReplicaSource? TryCreate(Pool pool, PoolOptions options, IServiceProvider services) =>
        options.Kubernetes is { } kubernetes
            ? new KubernetesReplicaSource(
                pool,
                kubernetes,
                services.GetRequiredService<IKubernetes>(),
                services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<ILogger<KubernetesReplicaSource>>())
            : null;
}

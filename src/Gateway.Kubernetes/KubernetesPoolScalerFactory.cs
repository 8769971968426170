using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Kubernetes;

/// <summary>Makes a <see cref="KubernetesPoolScaler"/> for each elastic pool whose <c>Scaling:Kubernetes</c> names a scale target.</summary>
internal sealed class KubernetesPoolScalerFactory : IPoolScalerFactory
{
    public IPoolScaler? TryCreate(Pool pool, PoolOptions options, IReplicaSource source, IServiceProvider services)
    {
        if (options.Scaling?.Kubernetes is not { } target)
        {
            return null;
        }

        // The pods are found by the pool's Kubernetes source; without one the scaler still patches, but cannot
        // say which pod to remove.
        var kubernetesSource = source as KubernetesReplicaSource;
        var @namespace = target.Namespace.Length > 0 ? target.Namespace
            : kubernetesSource?.Namespace ?? options.Kubernetes?.Namespace ?? pool.Service.Namespace;
        return new KubernetesPoolScaler(
            target.Kind,
            target.Name,
            @namespace,
            kubernetesSource,
            services.GetRequiredService<IKubernetes>(),
            services.GetRequiredService<ILogger<KubernetesPoolScaler>>());
    }
}

using Gateway.Backends;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Kubernetes;

/// <summary>Wires Kubernetes discovery into a gateway host.</summary>
public static class KubernetesServiceCollectionExtensions
{
    /// <summary>
    /// Lets pools use a <c>Kubernetes</c> replica source. The API client is built lazily, on first use: in the
    /// cluster from the pod's service account (<c>KUBERNETES_SERVICE_HOST</c> is set), elsewhere from the
    /// kubeconfig (<c>KUBECONFIG</c> or <c>~/.kube/config</c>); a gateway with no Kubernetes pool never needs either.
    /// </summary>
    public static IServiceCollection AddKubernetesReplicaSources(this IServiceCollection services)
    {
        services.TryAddSingleton<IKubernetes>(_ => new k8s.Kubernetes(
            KubernetesClientConfiguration.IsInCluster()
                ? KubernetesClientConfiguration.InClusterConfig()
                : KubernetesClientConfiguration.BuildConfigFromConfigFile()));
        services.AddSingleton<IReplicaSourceFactory, KubernetesReplicaSourceFactory>();
        return services;
    }
}

using Gateway.Configuration;
using k8s;

namespace Gateway.Kubernetes;

/// <summary>
/// Builds the one client configuration discovery, scaling and leader election share, from <c>Gateway:Kubernetes</c>
/// and the environment, in the order kubectl users expect.
/// </summary>
internal static class KubernetesClientConfigurations
{
    /// <summary>
    /// An explicit <see cref="KubernetesClusterOptions.Kubeconfig"/> (and <see cref="KubernetesClusterOptions.Context"/>)
    /// first; else, in a pod and with no context asked for, the pod's service account; else the file in
    /// <c>KUBECONFIG</c> (several files are merged, first wins, when no context is asked for); else <c>~/.kube/config</c>.
    /// </summary>
    public static KubernetesClientConfiguration Create(KubernetesClusterOptions options, Func<string, string?> environment)
    {
        var context = options.Context.Length > 0 ? options.Context : null;
        if (options.Kubeconfig.Length > 0)
        {
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig, context);
        }

        if (context is null && KubernetesClientConfiguration.IsInCluster())
        {
            return KubernetesClientConfiguration.InClusterConfig();
        }

        var paths = (environment("KUBECONFIG") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (paths.Length > 0)
        {
            // The library merges several files only in its default lookup, which takes no context; a context is then
            // looked for in the first file.
            return paths.Length > 1 && context is null
                ? KubernetesClientConfiguration.BuildDefaultConfig()
                : KubernetesClientConfiguration.BuildConfigFromConfigFile(paths[0], context);
        }

        return KubernetesClientConfiguration.BuildConfigFromConfigFile(currentContext: context);
    }
}

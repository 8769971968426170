using Gateway.Configuration;
using Gateway.Providers;
using Gateway.Scaling;
using Gateway.Telemetry;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly.Registry;

namespace Gateway.Kubernetes;

/// <summary>Wires Kubernetes into a gateway host: discovery, scaling and leader election, on one API client.</summary>
public static class KubernetesServiceCollectionExtensions
{
    /// <summary>
    /// Lets pools take their replicas from a service's EndpointSlices (<c>Kubernetes</c> source) and be scaled through
    /// a Deployment or a KServe InferenceService (<c>Scaling:Kubernetes</c>), and, when
    /// <c>Gateway:Kubernetes:LeaderElection:Enabled</c>, lets only the holder of a Lease scale. The API client is built
    /// lazily, on first use, from <c>Gateway:Kubernetes</c> (see <see cref="KubernetesClusterOptions"/>): a gateway
    /// with no Kubernetes pool and no leader election never needs a cluster. Every call but a watch goes through the
    /// retries and timeouts of <see cref="KubernetesApiResilience"/>. Call after <c>AddInferenceGateway</c>.
    /// </summary>
    public static IServiceCollection AddKubernetes(this IServiceCollection services) =>
        services.AddKubernetes(Environment.GetEnvironmentVariable);

    internal static IServiceCollection AddKubernetes(this IServiceCollection services, Func<string, string?> environment)
    {
        services.TryAddSingleton(sp => KubernetesClientConfigurations.Create(Cluster(sp), environment));
        services.AddKubernetesApiResilience();
        services.TryAddSingleton<IKubernetes>(sp => new k8s.Kubernetes(
            sp.GetRequiredService<KubernetesClientConfiguration>(),
            KubernetesApiResilience.CreateHandler(sp.GetRequiredService<ResiliencePipelineProvider<string>>())));
        services.AddSingleton<IReplicaProviderFactory, KubernetesReplicaProviderFactory>();

        // Registered after the core's sole leadership, so it wins when the election is on; off, the core's stays.
        services.AddSingleton(sp =>
        {
            var election = Cluster(sp).LeaderElection;
            return new KubernetesLeadership(
                sp.GetRequiredService<IKubernetes>(),
                election,
                KubernetesLeadership.NamespaceFor(election, sp.GetRequiredService<KubernetesClientConfiguration>(), environment),
                KubernetesLeadership.IdentityFor(election, environment),
                sp.GetService<GatewayMetrics>(),
                sp.GetService<TimeProvider>() ?? TimeProvider.System,
                sp.GetRequiredService<ILogger<KubernetesLeadership>>());
        });
        services.AddSingleton<IScalingLeadership>(sp => Cluster(sp).LeaderElection.Enabled
            ? sp.GetRequiredService<KubernetesLeadership>()
            : new SoleLeadership());
        services.AddSingleton<IHostedService>(sp => Cluster(sp).LeaderElection.Enabled
            ? sp.GetRequiredService<KubernetesLeadership>()
            : NoElection.Instance);
        return services;
    }

    private static KubernetesClusterOptions Cluster(IServiceProvider services) =>
        services.GetService<GatewayOptions>()?.Kubernetes ?? new KubernetesClusterOptions();

    /// <summary>Stands in for the election's hosted service when there is no election.</summary>
    private sealed class NoElection : IHostedService
    {
        public static readonly NoElection Instance = new();

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

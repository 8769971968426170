using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Logging;

namespace Gateway.Providers;

/// <summary>Chooses the replica source a pool's configuration asks for.</summary>
internal static class ReplicaSources
{
    /// <summary>The name of the HTTP client that probes replicas' <c>/health</c>.</summary>
    public const string ProbeClientName = "replica-probe";

    public static IReplicaSource Create(Pool pool, PoolOptions options, IServiceProvider services)
    {
        foreach (var factory in services.GetServices<IReplicaSourceFactory>())
        {
            if (factory.TryCreate(pool, options, services) is { } source)
            {
                return source;
            }
        }

        if (options.Kubernetes is not null)
        {
            throw new InvalidOperationException(
                $"Pool '{pool.Name}' discovers its replicas on Kubernetes, but the host did not add Kubernetes (AddKubernetes)");
        }

        if (options.Process is { } process)
        {
            return new ProcessReplicaSource(
                pool,
                process,
                services.GetRequiredService<ChildProcessLauncher>(),
                services.GetRequiredService<IHttpClientFactory>().CreateClient(ProbeClientName),
                services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<ILogger<ProcessReplicaSource>>());
        }

        if (options.Scaling?.Webhook is not null)
        {
            // A webhook starts replicas somewhere; the Static addresses say where they may appear.
            return new CandidateReplicaSource(
                pool,
                options.Static,
                HealthPolicy.From(options.Health),
                services.GetRequiredService<IHttpClientFactory>().CreateClient(ProbeClientName),
                services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<ILogger<CandidateReplicaSource>>());
        }

        return new StaticReplicaSource(pool, options.Static);
    }
}

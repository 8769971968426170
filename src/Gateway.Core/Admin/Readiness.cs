using System.Globalization;
using Gateway.Model;
using Gateway.Providers;

namespace Gateway.Admin;

/// <summary>
/// The gateway is ready once every pool has the replicas it must keep running (its minimum) ready, and every pool
/// whose replicas are discovered (Kubernetes) has been listed once. An empty pool after a successful list is the
/// cluster's truth and does not hold readiness back: the gateway then answers clean 503s with Retry-After, where a
/// gateway taken out of its Service would leave clients with refused connections. A source that later loses its
/// API server keeps the replicas it knew and the gateway stays ready: a control-plane outage must not become a
/// data-plane outage.
/// </summary>
internal static class Readiness
{
    /// <summary>Null when ready; otherwise what is missing.</summary>
    public static string? Check(GatewayTopology topology, IReadOnlyList<IReplicaProvider> providers)
    {
        foreach (var provider in providers)
        {
            if (!provider.HasDiscovered)
            {
                return $"not ready: pool {provider.Pool.Name} of service {provider.Pool.ServiceName} has not listed its replicas yet";
            }
        }

        foreach (var service in topology.Services)
        {
            foreach (var pool in service.Pools)
            {
                var ready = pool.ReadyCount;
                if (ready < pool.MinReplicas)
                {
                    return string.Create(CultureInfo.InvariantCulture,
                        $"not ready: pool {pool.Name} of service {service.Name} has {ready} of {pool.MinReplicas} replicas ready");
                }
            }
        }

        return null;
    }
}

using System.Globalization;
using Gateway.Routing;

namespace Gateway.Telemetry;

/// <summary>The gateway is ready once every pool has the replicas it must keep running (its minimum) ready.</summary>
internal static class Readiness
{
    /// <summary>Null when ready; otherwise what is missing.</summary>
    public static string? Check(GatewayTopology topology)
    {
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

using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Logging;

namespace Gateway.Providers.Hosted;

/// <summary>
/// Makes <see cref="HostedApiReplicaProvider"/>s for pools with a <c>Provider</c> source, each with its
/// <see cref="StandInProcess"/> when the pool names a <see cref="ProviderSourceOptions.StandIn"/>.
/// </summary>
internal sealed class HostedApiProviderFactory(
    GatewayOptions options, ProviderTrust trust, StandInKeys keys, ChildProcessLauncher launcher, TimeProvider time, ILogger<StandInProcess> logger)
    : IReplicaProviderFactory
{
    public string Kind => ReplicaProviders.ProviderKind;

    public IReplicaProvider Create(Pool pool)
    {
        var provider = pool.Options.Provider!;
        if (provider.StandIn is not { } standIn)
        {
            return new HostedApiReplicaProvider(pool, standIn: null);
        }

        var certificate = trust.StandInFor(pool.Options)
            ?? throw new InvalidOperationException($"No certificate was made for the stand-in of pool '{pool.Name}' of service '{pool.ServiceName}'");
        var process = new StandInProcess(
            pool, standIn, certificate, keys.For(pool.Options), BaseUrlKey(pool.Options), launcher, time, logger);
        return new HostedApiReplicaProvider(pool, process);
    }

    /// <summary>The configuration key of <paramref name="pool"/>'s <c>Provider:BaseUrl</c>, as validation errors name it.</summary>
    private string BaseUrlKey(PoolOptions pool)
    {
        for (var s = 0; s < options.Services.Count; s++)
        {
            var p = options.Services[s].Pools.IndexOf(pool);
            if (p >= 0)
            {
                return $"{GatewayOptions.SectionName}:Services:{s}:Pools:{p}:Provider:BaseUrl";
            }
        }

        return $"{GatewayOptions.SectionName}:Services:?:Pools:?:Provider:BaseUrl";
    }
}

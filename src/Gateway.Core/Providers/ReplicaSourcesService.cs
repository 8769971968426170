using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Hosting;

namespace Gateway.Providers;

/// <summary>Starts every pool's replica source with the gateway and stops them, children included, when it stops.</summary>
internal sealed class ReplicaSourcesService(GatewayTopology topology, GatewayOptions options, IServiceProvider services) : IHostedService
{
    // Swapped whole on each start: /readyz reads it from request threads while the sources start.
    private volatile IReplicaSource[] _sources = [];

    /// <summary>The sources started so far.</summary>
    public IReadOnlyList<IReplicaSource> Sources => _sources;

    /// <summary>
    /// The source that fills <paramref name="pool"/>, once this service has started; the scaling loop starts after
    /// it (hosted services start in order) and so sees every source.
    /// </summary>
    public IReplicaSource? Find(Pool pool)
    {
        foreach (var source in _sources)
        {
            if (ReferenceEquals(source.Pool, pool))
            {
                return source;
            }
        }

        return null;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (var s = 0; s < options.Services.Count; s++)
        {
            var serviceOptions = options.Services[s];
            var service = topology.Find(serviceOptions.Name, serviceOptions.Namespace)!;
            foreach (var poolOptions in serviceOptions.Pools)
            {
                var pool = service.FindPool(poolOptions.Name)!;
                var source = ReplicaSources.Create(pool, poolOptions, services);
                _sources = [.. _sources, source];
                await source.StartAsync(cancellationToken);
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var stopping = new List<Task>(_sources.Length);
        foreach (var source in _sources)
        {
            stopping.Add(source.StopAsync(cancellationToken));
        }

        await Task.WhenAll(stopping);
    }
}

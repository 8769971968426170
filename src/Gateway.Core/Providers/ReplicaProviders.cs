using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Hosting;

namespace Gateway.Providers;

/// <summary>
/// Makes every pool's provider with the factory of the pool's kind and starts them with the gateway; stops them,
/// children included, when it stops.
/// </summary>
public sealed class ReplicaProviders : IHostedService
{
    /// <summary>A pool's replicas are fixed addresses.</summary>
    public const string StaticKind = "Static";

    /// <summary>A pool's replicas are local processes the gateway starts.</summary>
    public const string ProcessKind = "Process";

    /// <summary>A pool's replicas are started by a webhook's receiver at the pool's Static addresses.</summary>
    public const string WebhookKind = "Webhook";

    /// <summary>A pool's one replica is a hosted OpenAI-compatible API.</summary>
    public const string ProviderKind = "Provider";

    /// <summary>A pool's replicas are a Kubernetes service's pods.</summary>
    public const string KubernetesKind = "Kubernetes";

    /// <summary>The name of the HTTP client that probes the <c>/health</c> of servers about to join a pool.</summary>
    internal const string ProbeClientName = "replica-probe";

    private readonly GatewayTopology _topology;
    private readonly Dictionary<string, IReplicaProviderFactory> _factories = new(StringComparer.Ordinal);

    // Swapped whole on each start: /readyz reads it from request threads while the providers start.
    private volatile IReplicaProvider[] _providers = [];

    /// <summary>Providers for the pools of <paramref name="topology"/>, made by <paramref name="factories"/> (the last registered of a kind wins).</summary>
    public ReplicaProviders(GatewayTopology topology, IEnumerable<IReplicaProviderFactory> factories)
    {
        _topology = topology;
        foreach (var factory in factories)
        {
            _factories[factory.Kind] = factory;
        }
    }

    /// <summary>The providers started so far.</summary>
    public IReadOnlyList<IReplicaProvider> All => _providers;

    /// <summary>The kind of provider <paramref name="options"/> ask for.</summary>
    public static string KindOf(PoolOptions options) =>
        options.Provider is not null ? ProviderKind
        : options.Kubernetes is not null ? KubernetesKind
        : options.Process is not null ? ProcessKind
        : options.Scaling?.Webhook is not null ? WebhookKind
        : StaticKind;

    /// <summary>
    /// The provider that fills <paramref name="pool"/>, once this service has started; the scaling loop starts after it
    /// (hosted services start in order) and so sees every provider.
    /// </summary>
    public IReplicaProvider? Find(Pool pool)
    {
        foreach (var provider in _providers)
        {
            if (ReferenceEquals(provider.Pool, pool))
            {
                return provider;
            }
        }

        return null;
    }

    /// <summary>A new provider for <paramref name="pool"/>, made by the factory of the pool's kind.</summary>
    public IReplicaProvider Create(Pool pool)
    {
        var kind = KindOf(pool.Options);
        return _factories.TryGetValue(kind, out var factory)
            ? factory.Create(pool)
            : throw new InvalidOperationException(
                $"Pool '{pool.Name}' of service '{pool.ServiceName}' takes its replicas from {kind}, but the host did not add {kind} (Add{kind})");
    }

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var service in _topology.Services)
        {
            foreach (var pool in service.Pools)
            {
                var provider = Create(pool);
                _providers = [.. _providers, provider];
                await provider.StartAsync(cancellationToken);
            }
        }
    }

    /// <inheritdoc/>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var stopping = new List<Task>(_providers.Length);
        foreach (var provider in _providers)
        {
            stopping.Add(provider.StopAsync(cancellationToken));
        }

        await Task.WhenAll(stopping);
    }
}

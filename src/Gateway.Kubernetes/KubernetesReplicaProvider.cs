using System.Collections.Concurrent;
using System.Globalization;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Gateway.Kubernetes;

/// <summary>
/// Keeps a pool's replicas equal to the endpoints of a Kubernetes service whose node (or pod) carries the pool's
/// label: lists the service's EndpointSlices, then watches them, and lists again every resync period in case an
/// event was missed. A ready endpoint is a <see cref="ReplicaState.Ready"/> replica, a terminating one
/// <see cref="ReplicaState.Draining"/>, any other <see cref="ReplicaState.Provisioning"/>; an endpoint that
/// vanishes takes its replica with it. Draining is one way: a replica the scale controller drains or gives back
/// (<see cref="Retire"/>) stays draining until its pod is gone, whatever its endpoint says meanwhile.
/// </summary>
internal sealed partial class KubernetesReplicaProvider : IReplicaProvider, IAsyncDisposable
{
    private const string ServiceNameLabel = "kubernetes.io/service-name";

    /// <summary>Between a failed list or watch and the next attempt.</summary>
    internal static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    private readonly Pool _pool;
    private readonly KubernetesSourceOptions _options;
    private readonly IKubernetes _client;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _labelSelector;

    // Touched only by the discovery loop, one event at a time.
    private readonly Dictionary<string, V1EndpointSlice> _slices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Replica> _replicas = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> _labelValues = new(StringComparer.Ordinal);

    // Shared with the scaler, which runs on the scaling loop: the pod behind each replica.
    private readonly ConcurrentDictionary<Replica, PodReference> _pods = new();
    private readonly Lock _stateLock = new();

    private CancellationTokenSource? _stopping;
    private Task _loop = Task.CompletedTask;
    private volatile bool _discovered;

    public KubernetesReplicaProvider(Pool pool, KubernetesSourceOptions options, IKubernetes client, TimeProvider time, ILogger<KubernetesReplicaProvider> logger)
    {
        _pool = pool;
        _options = options;
        _client = client;
        _time = time;
        _logger = logger;
        _labelSelector = $"{ServiceNameLabel}={options.ServiceName}";
    }

    public Pool Pool => _pool;

    /// <summary>True once the first list of the service's EndpointSlices has been applied to the pool.</summary>
    public bool HasDiscovered => _discovered;

    /// <summary>How the pool is scaled (a scale target or a webhook), set by the factory once both exist; null for a fixed pool.</summary>
    public IPoolScaler? Scaler { get; set; }

    /// <summary>The namespace of the service whose pods are the replicas.</summary>
    public string Namespace => _options.Namespace;

    /// <summary>The pod behind <paramref name="replica"/> (its endpoint's target), or null when the endpoint names none.</summary>
    public PodReference? FindPod(Replica replica) => _pods.TryGetValue(replica, out var pod) ? pod : null;

    /// <summary>
    /// Marks <paramref name="replica"/> as given back by the scaler: it stays draining (no new requests) until its
    /// pod leaves the endpoints, even while the pod still reports ready, so the scale controller does not count it
    /// again and choose another replica to remove.
    /// </summary>
    public void Retire(Replica replica)
    {
        lock (_stateLock)
        {
            if (replica.State == ReplicaState.Stopped)
            {
                return;
            }

            replica.SetState(ReplicaState.Draining);
        }
    }

    /// <summary>
    /// Starts discovery and returns at once: an API server that does not answer must not keep the gateway from
    /// starting; the pool is empty (and <c>/readyz</c> says so) until the first list arrives.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stopping = new CancellationTokenSource();
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Stops watching; the pods are the cluster's, not the gateway's, so they keep running.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopping is null)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _stopping?.Dispose();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await ListAndWatchAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogDiscoveryFailed(_logger, e, _pool.Name, _options.Namespace, _options.ServiceName);
                try
                {
                    await Task.Delay(RetryDelay, _time, stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One list, then the watch from its resource version until the resync period ends or the watch breaks.</summary>
    private async Task ListAndWatchAsync(CancellationToken stopping)
    {
        var list = await _client.DiscoveryV1.ListNamespacedEndpointSliceAsync(
            _options.Namespace, labelSelector: _labelSelector, cancellationToken: stopping);

        // A resync forgets cached labels too: a node pool label could have been moved by an operator.
        _slices.Clear();
        _labelValues.Clear();
        foreach (var slice in list.Items)
        {
            _slices[slice.Metadata.Name] = slice;
        }

        await ReconcileAsync(stopping);
        if (!_discovered)
        {
            _discovered = true;
            LogDiscovered(_logger, _pool.Name, _options.Namespace, _options.ServiceName, _replicas.Count);
        }

        using var resync = new CancellationTokenSource(TimeSpan.FromSeconds(_options.ResyncSeconds), _time);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(stopping, resync.Token);

        // The API server reports a watch it cannot serve (410 Gone: the listed version is too old) as an ERROR event
        // carrying a Status; the client hands that to onError instead of the loop. Either way the answer is a fresh list.
        var expired = false;
        var events = _client.DiscoveryV1.WatchListNamespacedEndpointSliceAsync(
            _options.Namespace,
            allowWatchBookmarks: true,
            labelSelector: _labelSelector,
            resourceVersion: list.Metadata.ResourceVersion,
            onError: e =>
            {
                if (e is KubernetesException)
                {
                    expired = true;
                    watching.Cancel();
                }
            },
            cancellationToken: watching.Token);
        try
        {
            await foreach (var (type, slice) in events)
            {
                switch (type)
                {
                    case WatchEventType.Added:
                    case WatchEventType.Modified:
                        _slices[slice.Metadata.Name] = slice;
                        break;
                    case WatchEventType.Deleted:
                        _slices.Remove(slice.Metadata.Name);
                        break;
                    case WatchEventType.Error:
                        LogWatchExpired(_logger, _pool.Name);
                        return;
                    default:
                        continue;
                }

                await ReconcileAsync(stopping);
            }
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested && (resync.IsCancellationRequested || expired))
        {
            // The resync period is over, or the watch expired: the loop lists again.
            if (expired)
            {
                LogWatchExpired(_logger, _pool.Name);
            }
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Gone)
        {
            // The watch request itself was refused as too old: list again at once, no need to wait.
            LogWatchExpired(_logger, _pool.Name);
        }
    }

    /// <summary>Brings the pool's replicas in line with the endpoints of every known slice that belong to the pool.</summary>
    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var wanted = new Dictionary<string, (ReplicaState State, PodReference? Pod)>(StringComparer.Ordinal);
        foreach (var slice in _slices.Values)
        {
            var port = FindPort(slice);
            if (port is null || slice.Endpoints is null)
            {
                continue;
            }

            foreach (var endpoint in slice.Endpoints)
            {
                if (endpoint.Addresses is not { Count: > 0 } || !await BelongsToPoolAsync(endpoint, cancellationToken))
                {
                    continue;
                }

                var address = Address(endpoint.Addresses[0], port.Value);
                var state = StateOf(endpoint.Conditions);

                // The same pod may sit in two slices while they are rebalanced; the more serving state wins.
                if (!wanted.TryGetValue(address, out var seen) || Rank(state) > Rank(seen.State))
                {
                    wanted[address] = (state, PodOf(endpoint));
                }
            }
        }

        // Under the lock the scaler takes to give a replica back, so a released replica is never made ready again.
        lock (_stateLock)
        {
            foreach (var (address, (state, pod)) in wanted)
            {
                if (!_replicas.TryGetValue(address, out var replica))
                {
                    replica = _pool.AddReplica(new Uri(address), state);
                    _replicas[address] = replica;
                    LogAdded(_logger, replica.Id, address, state);
                }
                else
                {
                    // Draining is one way: a terminating pod does not come back, and a replica the scale controller is
                    // draining or has given back must not serve again because its pod still reports ready.
                    var effective = replica.State == ReplicaState.Draining ? ReplicaState.Draining : state;
                    if (replica.State != effective)
                    {
                        replica.SetState(effective);
                        LogStateChanged(_logger, replica.Id, effective);
                    }
                }

                if (pod is { } known)
                {
                    _pods[replica] = known;
                }
                else
                {
                    _pods.TryRemove(replica, out _);
                }
            }

            List<string>? gone = null;
            foreach (var (address, replica) in _replicas)
            {
                if (!wanted.ContainsKey(address))
                {
                    _pool.RemoveReplica(replica);
                    _pods.TryRemove(replica, out _);
                    LogRemoved(_logger, replica.Id, address);
                    (gone ??= []).Add(address);
                }
            }

            if (gone is not null)
            {
                foreach (var address in gone)
                {
                    _replicas.Remove(address);
                }
            }
        }
    }

    private PodReference? PodOf(V1Endpoint endpoint) =>
        endpoint.TargetRef is { Kind: "Pod", Name: { Length: > 0 } name } target
            ? new PodReference(target.NamespaceProperty ?? _options.Namespace, name)
            : null;

    private int? FindPort(V1EndpointSlice slice)
    {
        if (slice.Ports is null)
        {
            return null;
        }

        var byNumber = int.TryParse(_options.Port, NumberStyles.None, CultureInfo.InvariantCulture, out var number);
        foreach (var port in slice.Ports)
        {
            if (port.Port is { } value && (byNumber ? value == number : string.Equals(port.Name, _options.Port, StringComparison.Ordinal)))
            {
                return value;
            }
        }

        return null;
    }

    private async Task<bool> BelongsToPoolAsync(V1Endpoint endpoint, CancellationToken cancellationToken)
    {
        string? value;
        if (_options.LabelOn == KubernetesLabelTarget.Node)
        {
            if (endpoint.NodeName is not { Length: > 0 } node)
            {
                return false;
            }

            var key = "node/" + node;
            if (!_labelValues.TryGetValue(key, out value))
            {
                var read = await _client.CoreV1.ReadNodeAsync(node, cancellationToken: cancellationToken);
                value = LabelValue(read.Metadata);
                _labelValues[key] = value;
            }
        }
        else
        {
            if (endpoint.TargetRef is not { Kind: "Pod", Name: { Length: > 0 } pod } target)
            {
                return false;
            }

            var podNamespace = target.NamespaceProperty ?? _options.Namespace;
            var key = $"pod/{podNamespace}/{pod}";
            if (!_labelValues.TryGetValue(key, out value))
            {
                var read = await _client.CoreV1.ReadNamespacedPodAsync(pod, podNamespace, cancellationToken: cancellationToken);
                value = LabelValue(read.Metadata);
                _labelValues[key] = value;
            }
        }

        return string.Equals(value, _options.PoolLabelValue, StringComparison.Ordinal);
    }

    private string? LabelValue(V1ObjectMeta? metadata) =>
        metadata?.Labels is { } labels && labels.TryGetValue(_options.PoolLabel, out var value) ? value : null;

    /// <summary>
    /// Terminating first (a terminating pod may still be serving its last requests), then ready; an absent ready
    /// condition means ready, as the EndpointSlice API says.
    /// </summary>
    private static ReplicaState StateOf(V1EndpointConditions? conditions)
    {
        if (conditions?.Terminating == true)
        {
            return ReplicaState.Draining;
        }

        return conditions?.Ready ?? true ? ReplicaState.Ready : ReplicaState.Provisioning;
    }

    private static int Rank(ReplicaState state) => state switch
    {
        ReplicaState.Ready => 2,
        ReplicaState.Provisioning => 1,
        _ => 0,
    };

    private static string Address(string ip, int port) =>
        ip.Contains(':', StringComparison.Ordinal)
            ? $"http://[{ip}]:{port.ToString(CultureInfo.InvariantCulture)}/"
            : $"http://{ip}:{port.ToString(CultureInfo.InvariantCulture)}/";

    [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "Replica {ReplicaId} discovered at {Address}, {State}")]
    private static partial void LogAdded(ILogger logger, string replicaId, string address, ReplicaState state);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Replica {ReplicaId} is now {State}")]
    private static partial void LogStateChanged(ILogger logger, string replicaId, ReplicaState state);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Replica {ReplicaId} at {Address} is gone from the service's endpoints")]
    private static partial void LogRemoved(ILogger logger, string replicaId, string address);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Discovery of pool {Pool} from service {Namespace}/{Service} failed; retrying")]
    private static partial void LogDiscoveryFailed(ILogger logger, Exception exception, string pool, string @namespace, string service);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Pool {Pool} listed service {Namespace}/{Service}: {Replicas} replicas")]
    private static partial void LogDiscovered(ILogger logger, string pool, string @namespace, string service, int replicas);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "Watch of pool {Pool}'s endpoints expired; listing again")]
    private static partial void LogWatchExpired(ILogger logger, string pool);
}

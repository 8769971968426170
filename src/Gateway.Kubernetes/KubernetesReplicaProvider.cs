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
/// <remarks>
/// An endpoint whose node (or pod) cannot be read (gone a moment ago, forbidden, a failing or silent API server) is
/// left undecided rather than failing the whole pass: the pool's other endpoints are applied at once, a replica
/// already at its address stays exactly as it was (it may still belong; removing it would drop a serving replica
/// on a transient error) and none is added (it may not belong). The read is tried again after
/// <see cref="LabelRetryDelay"/>, doubling up to <see cref="MaxLabelRetryDelay"/>, without waiting for a watch event.
/// </remarks>
internal sealed partial class KubernetesReplicaProvider : IReplicaProvider, IAsyncDisposable
{
    private const string ServiceNameLabel = "kubernetes.io/service-name";

    /// <summary>Between a failed list or watch and the next attempt.</summary>
    internal static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>Between a failed read of a node's (or pod's) label and the next; it doubles with each failure in a row.</summary>
    internal static readonly TimeSpan LabelRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two reads of a label that keep failing.</summary>
    internal static readonly TimeSpan MaxLabelRetryDelay = TimeSpan.FromSeconds(30);

    // A pass that meets many new nodes reads their labels a few at a time, not one after another (a slow read would
    // hold up the rest) nor all at once (a burst of hundreds would only earn 429s from the API server).
    private const int ConcurrentLabelReads = 8;

    private readonly Pool _pool;
    private readonly KubernetesSourceOptions _options;
    private readonly IKubernetes _client;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _labelSelector;

    // Touched only by the discovery loop, one event at a time.
    private readonly Dictionary<string, V1EndpointSlice> _slices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Replica> _replicas = new(StringComparer.Ordinal);
    private readonly Dictionary<LabelOwner, string?> _labelValues = [];

    // Nodes (or pods) whose label could not be read, and when to try again: never an answer, so never in _labelValues.
    private readonly Dictionary<LabelOwner, UnreadLabel> _unreadLabels = [];

    // Shared with the scaler, which runs on the scaling loop: the pod behind each replica.
    private readonly ConcurrentDictionary<Replica, PodReference> _pods = new();
    private int _podsInOtherPools;
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
    /// Pods of the same Service that belong to other pools (their label is known and another value), terminating ones
    /// left out: an InferenceService that serves several pools counts them in its replicas too.
    /// </summary>
    public int PodsInOtherPools => Volatile.Read(ref _podsInOtherPools);

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

        // A resync forgets cached labels too: a node pool label could have been moved by an operator. The back-off of a
        // label whose read keeps failing stays: a list retried every few seconds must not make it read at that pace.
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
        var watch = events.GetAsyncEnumerator(watching.Token);
        Task<bool>? next = null;
        try
        {
            while (true)
            {
                next ??= watch.MoveNextAsync().AsTask();
                if (UntilLabelReadDue() is { } wait)
                {
                    try
                    {
                        await next.WaitAsync(wait, _time, watching.Token);
                    }
                    catch (TimeoutException) when (!next.IsCompleted)
                    {
                        // No event yet, but a node (or pod) whose read failed is due again: its endpoints may join now.
                        await ReconcileAsync(stopping);
                        continue;
                    }
                }

                var more = await next;
                next = null;
                if (!more)
                {
                    return;
                }

                var (type, slice) = watch.Current;
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
        finally
        {
            if (next is { IsCompleted: false })
            {
                // The watch may not be disposed while it reads (a pass failed, or the provider stops): end it first.
                await watching.CancelAsync();
                await ((Task)next).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            await watch.DisposeAsync();
        }
    }

    /// <summary>
    /// Brings the pool's replicas in line with the endpoints of every known slice that belong to the pool. Endpoints
    /// whose node (or pod) is already known go in first; then each label still to read is applied as its answer comes.
    /// </summary>
    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        Apply();
        if (LabelsToRead() is { } toRead)
        {
            await ReadLabelsAsync(toRead, cancellationToken);
        }
    }

    /// <summary>
    /// Brings the pool's replicas in line with the endpoints whose node (or pod) label is known; an endpoint whose label
    /// is not leaves a replica at its address as it is.
    /// </summary>
    private void Apply()
    {
        var wanted = new Dictionary<string, (ReplicaState State, PodReference? Pod)>(StringComparer.Ordinal);
        var others = new HashSet<string>(StringComparer.Ordinal);
        HashSet<string>? undecided = null;
        foreach (var slice in _slices.Values)
        {
            var port = FindPort(slice);
            if (port is null || slice.Endpoints is null)
            {
                continue;
            }

            foreach (var endpoint in slice.Endpoints)
            {
                if (endpoint.Addresses is not { Count: > 0 } || OwnerOf(endpoint) is not { } owner)
                {
                    continue;
                }

                var address = Address(endpoint.Addresses[0], port.Value);
                if (!_labelValues.TryGetValue(owner, out var label))
                {
                    (undecided ??= new HashSet<string>(StringComparer.Ordinal)).Add(address);
                    continue;
                }

                var state = StateOf(endpoint.Conditions);
                if (!string.Equals(label, _options.PoolLabelValue, StringComparison.Ordinal))
                {
                    if (state != ReplicaState.Draining)
                    {
                        others.Add(address);
                    }

                    continue;
                }

                // The same pod may sit in two slices while they are rebalanced; the more serving state wins.
                if (!wanted.TryGetValue(address, out var seen) || Rank(state) > Rank(seen.State))
                {
                    wanted[address] = (state, PodOf(endpoint));
                }
            }
        }

        Volatile.Write(ref _podsInOtherPools, others.Count);

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
                // Undecided is not gone: whether it still belongs is known once its node (or pod) is read.
                if (!wanted.ContainsKey(address) && undecided?.Contains(address) != true)
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

    /// <summary>
    /// The nodes (or pods) the endpoints name whose label is neither known nor waiting out its back-off; null when
    /// there are none. Forgets the back-off of those no endpoint names any more.
    /// </summary>
    private List<LabelOwner>? LabelsToRead()
    {
        var now = _time.GetUtcNow();
        var named = new HashSet<LabelOwner>();
        List<LabelOwner>? toRead = null;
        foreach (var slice in _slices.Values)
        {
            if (FindPort(slice) is null || slice.Endpoints is null)
            {
                continue;
            }

            foreach (var endpoint in slice.Endpoints)
            {
                if (endpoint.Addresses is { Count: > 0 } && OwnerOf(endpoint) is { } owner && named.Add(owner)
                    && !_labelValues.ContainsKey(owner)
                    && !(_unreadLabels.TryGetValue(owner, out var unread) && unread.ReadAt > now))
                {
                    (toRead ??= []).Add(owner);
                }
            }
        }

        // A node no endpoint names any more needs no further tries.
        foreach (var owner in _unreadLabels.Keys)
        {
            if (!named.Contains(owner))
            {
                _unreadLabels.Remove(owner);
            }
        }

        return toRead;
    }

    /// <summary>
    /// Reads the labels of <paramref name="toRead"/>, a few at a time, and applies each answer as it comes, so that one
    /// slow read (the API client retries a failing one, and times out a silent server) holds up no other endpoint. A
    /// failed read is logged, left unknown and due again after <see cref="LabelRetryDelayAfter"/>; only the provider
    /// stopping ends the pass.
    /// </summary>
    private async Task ReadLabelsAsync(List<LabelOwner> toRead, CancellationToken cancellationToken)
    {
        var reading = new List<Task<LabelRead>>(Math.Min(toRead.Count, ConcurrentLabelReads));
        var started = 0;
        while (started < toRead.Count || reading.Count > 0)
        {
            while (reading.Count < ConcurrentLabelReads && started < toRead.Count)
            {
                reading.Add(ReadLabelAsync(toRead[started++], cancellationToken));
            }

            var done = await Task.WhenAny(reading);
            reading.Remove(done);
            var (owner, label, failure) = await done;
            if (failure is null)
            {
                _unreadLabels.Remove(owner);
                _labelValues[owner] = label;
                Apply();
                continue;
            }

            var inARow = _unreadLabels.TryGetValue(owner, out var before) ? before.Failures + 1 : 1;
            var delay = LabelRetryDelayAfter(inARow);
            _unreadLabels[owner] = new UnreadLabel(inARow, _time.GetUtcNow() + delay);
            LogLabelReadFailed(_logger, failure, _pool.Name, owner.Kind, owner.ToString(), inARow, delay.TotalSeconds);
        }
    }

    /// <summary>The label of <paramref name="owner"/>, or why it could not be read; throws only when the provider stops.</summary>
    private async Task<LabelRead> ReadLabelAsync(LabelOwner owner, CancellationToken cancellationToken)
    {
        try
        {
            var metadata = owner.Namespace is null
                ? (await _client.CoreV1.ReadNodeAsync(owner.Name, cancellationToken: cancellationToken)).Metadata
                : (await _client.CoreV1.ReadNamespacedPodAsync(owner.Name, owner.Namespace, cancellationToken: cancellationToken)).Metadata;
            return new LabelRead(owner, LabelValue(metadata), null);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return new LabelRead(owner, null, e);
        }
    }

    /// <summary>The wait after <paramref name="failures"/> failed reads in a row of one label: 1 s, doubling, at most 30 s.</summary>
    internal static TimeSpan LabelRetryDelayAfter(int failures)
    {
        var delay = LabelRetryDelay * Math.Pow(2, Math.Min(failures - 1, 16));
        return delay < MaxLabelRetryDelay ? delay : MaxLabelRetryDelay;
    }

    /// <summary>How long until the first label whose read failed is due again; null when none failed.</summary>
    private TimeSpan? UntilLabelReadDue()
    {
        if (_unreadLabels.Count == 0)
        {
            return null;
        }

        var first = DateTimeOffset.MaxValue;
        foreach (var unread in _unreadLabels.Values)
        {
            if (unread.ReadAt < first)
            {
                first = unread.ReadAt;
            }
        }

        var wait = first - _time.GetUtcNow();
        return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
    }

    /// <summary>The node (or, with <c>LabelOn: Pod</c>, the pod) whose label places <paramref name="endpoint"/>; null when it names none.</summary>
    private LabelOwner? OwnerOf(V1Endpoint endpoint)
    {
        if (_options.LabelOn == KubernetesLabelTarget.Node)
        {
            return endpoint.NodeName is { Length: > 0 } node ? new LabelOwner(null, node) : null;
        }

        return endpoint.TargetRef is { Kind: "Pod", Name: { Length: > 0 } pod } target
            ? new LabelOwner(target.NamespaceProperty ?? _options.Namespace, pod)
            : null;
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

    [LoggerMessage(EventId = 5006, Level = LogLevel.Warning,
        Message = "Pool {Pool} could not read the label of {Kind} {Name} (failure {Failures} in a row); its endpoints wait undecided and it is read again in {RetrySeconds} s")]
    private static partial void LogLabelReadFailed(ILogger logger, Exception exception, string pool, string kind, string name, int failures, double retrySeconds);

    /// <summary>A node (no namespace) or a pod whose label says which pool its endpoints belong to.</summary>
    private readonly record struct LabelOwner(string? Namespace, string Name)
    {
        public string Kind => Namespace is null ? "node" : "pod";

        public override string ToString() => Namespace is null ? Name : $"{Namespace}/{Name}";
    }

    /// <summary>A label whose read failed <see cref="Failures"/> times in a row, to be read again at <see cref="ReadAt"/>.</summary>
    private readonly record struct UnreadLabel(int Failures, DateTimeOffset ReadAt);

    /// <summary>One read of a label: its value (null when the node or pod lacks it), or the failure.</summary>
    private readonly record struct LabelRead(LabelOwner Owner, string? Label, Exception? Failure);
}

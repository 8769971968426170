using Gateway.Configuration;
using Gateway.Model;
using Gateway.Testing;
using k8s;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Kubernetes.Tests.EndpointSlices;

namespace Gateway.Kubernetes.Tests;

/// <summary>
/// Discovery against the fake API server on loopback (<see cref="FakeKubernetesApi"/>; no real API server exists
/// where these tests run), through a plain KubernetesClient without the gateway's retries, so a failure the fake
/// serves reaches discovery as it is. Waits run on a fake clock where a test needs them exact.
/// </summary>
public sealed class KubernetesReplicaProviderTests : IAsyncLifetime, IDisposable
{
    private const string PoolLabel = "alibabacloud.com/nodepool-id";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly List<KubernetesReplicaProvider> _sources = [];
    private readonly RecordingLogger<KubernetesReplicaProvider> _log = new();
    private FakeKubernetesApi _api = null!;
    private GatewayTopology? _topology;
    private k8s.Kubernetes _client = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeKubernetesApi.StartAsync();
        _client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _api.Url });
        _api.AddNode("node-idc-1", PoolLabel, "np-onprem");
        _api.AddNode("node-ecs-1", PoolLabel, "np-cloud");
    }

    public async Task DisposeAsync()
    {
        foreach (var source in _sources)
        {
            await source.DisposeAsync();
        }

        await _api.DisposeAsync();
    }

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task Start_EndpointsOnLabelledNodes_BecomeReadyReplicasOfTheirPools()
    {
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0"), Endpoint("10.1.0.21", "node-ecs-1", "qwen-1")));
        var (onPrem, cloud) = await StartAsync(KubernetesLabelTarget.Node);

        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Ready"]);
        await WaitForAsync(cloud, ["http://10.1.0.21:8000/ Ready"]);
    }

    [Fact]
    public async Task Watch_EndpointAddedLater_JoinsThePoolOfItsNode()
    {
        var (onPrem, cloud) = await StartAsync(KubernetesLabelTarget.Node);
        await WaitForWatchesAsync(2);

        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.1.0.21", "node-ecs-1", "qwen-1", ready: false)));
        await WaitForAsync(cloud, ["http://10.1.0.21:8000/ Provisioning"]);

        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.1.0.21", "node-ecs-1", "qwen-1")));
        await WaitForAsync(cloud, ["http://10.1.0.21:8000/ Ready"]);
        Assert.Empty(onPrem.Replicas);
    }

    [Fact]
    public async Task Watch_EndpointNotReadyThenTerminating_LeavesReadyThenDrains()
    {
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0"), Endpoint("10.0.0.12", "node-idc-1", "qwen-2")));
        var (onPrem, _) = await StartAsync(KubernetesLabelTarget.Node);
        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Ready", "http://10.0.0.12:8000/ Ready"]);
        var replica = onPrem.Replicas[0];

        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0", ready: false), Endpoint("10.0.0.12", "node-idc-1", "qwen-2")));
        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Provisioning", "http://10.0.0.12:8000/ Ready"]);
        Assert.Equal(1, onPrem.ReadyCount);

        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0", ready: false, terminating: true), Endpoint("10.0.0.12", "node-idc-1", "qwen-2")));
        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Draining", "http://10.0.0.12:8000/ Ready"]);

        // The same replica object moved through the states: in-flight counts and metrics stay with it.
        Assert.Same(replica, onPrem.Replicas[0]);
    }

    [Fact]
    public async Task Watch_EndpointVanishesOrSliceDeleted_RemovesTheReplica()
    {
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0"), Endpoint("10.0.0.12", "node-idc-1", "qwen-2")));
        _api.Apply(Slice("qwen-def", "qwen", Endpoint("10.1.0.21", "node-ecs-1", "qwen-1")));
        var (onPrem, cloud) = await StartAsync(KubernetesLabelTarget.Node);
        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Ready", "http://10.0.0.12:8000/ Ready"]);
        await WaitForAsync(cloud, ["http://10.1.0.21:8000/ Ready"]);
        var leaving = onPrem.Replicas[0];

        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.12", "node-idc-1", "qwen-2")));
        await WaitForAsync(onPrem, ["http://10.0.0.12:8000/ Ready"]);
        Assert.Equal(ReplicaState.Stopped, leaving.State);

        _api.Delete("qwen-def");
        await WaitForAsync(cloud, []);
        Assert.Equal(["http://10.0.0.12:8000/ Ready"], Describe(onPrem));
    }

    [Fact]
    public async Task Start_LabelOnPod_AssignsByThePodsLabelWhateverItsNode()
    {
        _api.AddPod("default", "qwen-0", PoolLabel, "np-cloud");
        _api.AddPod("default", "qwen-1", PoolLabel, "np-onprem");

        // Pod labels say the opposite of the nodes' labels: only the pods' may count.
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0"), Endpoint("10.1.0.21", "node-ecs-1", "qwen-1")));
        var (onPrem, cloud) = await StartAsync(KubernetesLabelTarget.Pod);

        await WaitForAsync(onPrem, ["http://10.1.0.21:8000/ Ready"]);
        await WaitForAsync(cloud, ["http://10.0.0.11:8000/ Ready"]);
    }

    [Fact]
    public async Task Resync_AfterTheResyncPeriod_ListsAgainAndSeesAMissedChange()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0")));
        var (onPrem, _) = await StartAsync(KubernetesLabelTarget.Node, time, resyncSeconds: 300);
        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Ready"]);
        await WaitForWatchesAsync(2);
        Assert.Equal(2, _api.ListCount);

        // A change whose watch event never arrives.
        _api.ApplySilently(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0"), Endpoint("10.0.0.12", "node-idc-1", "qwen-2")));
        time.Advance(TimeSpan.FromSeconds(299));
        Assert.Equal(2, _api.ListCount);
        Assert.Equal(["http://10.0.0.11:8000/ Ready"], Describe(onPrem));

        time.Advance(TimeSpan.FromSeconds(1));
        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Ready", "http://10.0.0.12:8000/ Ready"]);
        await WaitForListsAsync(4);
    }

    [Fact]
    public async Task Watch_EndsWith410Gone_ListsAgainAndKeepsFollowingPods()
    {
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0")));
        var (onPrem, _) = await StartAsync(KubernetesLabelTarget.Node);
        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Ready"]);
        await WaitForWatchesAsync(2);

        // A change the watch never delivers, then the API server ends both watches: their version is too old.
        _api.ApplySilently(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0"), Endpoint("10.0.0.12", "node-idc-1", "qwen-2")));
        _api.ExpireWatches();

        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Ready", "http://10.0.0.12:8000/ Ready"]);
        await WaitForListsAsync(4);

        // The fresh watch follows pods again.
        await WaitForWatchesAsync(2);
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.12", "node-idc-1", "qwen-2")));
        await WaitForAsync(onPrem, ["http://10.0.0.12:8000/ Ready"]);
    }

    [Fact]
    public async Task Watch_RefusedWithHttp410_ListsAgainAtOnceAndKeepsFollowingPods()
    {
        var time = new CountingTimeProvider();
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0")));
        _api.RefuseNextWatches(2);
        var (onPrem, _) = await StartAsync(KubernetesLabelTarget.Node, time);

        // No retry delay: the clock never moves, yet both sources list again and watch.
        await WaitForWatchesAsync(2);
        await WaitForListsAsync(4);
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0"), Endpoint("10.0.0.12", "node-idc-1", "qwen-2")));
        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Ready", "http://10.0.0.12:8000/ Ready"]);
    }

    [Fact]
    public async Task List_Fails_NotDiscoveredUntilTheRetryAfterTheRetryDelaySucceeds()
    {
        var time = new CountingTimeProvider();
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0")));
        _api.FailNextLists(2);
        var (onPrem, _) = await StartAsync(KubernetesLabelTarget.Node, time);

        // Both first lists failed and both sources wait for the retry delay on the fake clock.
        await Eventually.WaitAsync(() => Task.FromResult(time.Timers), seen => seen == 2, Deadline, "both sources waiting to retry");
        Assert.Equal(2, _api.ListCount);
        Assert.All(_sources, source => Assert.False(source.HasDiscovered));
        Assert.Equal(
            "not ready: pool on-prem of service qwen-chat has not listed its replicas yet",
            Gateway.Admin.Readiness.Check(_topology!, _sources));

        time.Advance(KubernetesReplicaProvider.RetryDelay - TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, _api.ListCount);

        time.Advance(TimeSpan.FromMilliseconds(1));
        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Ready"]);
        await WaitForListsAsync(4);
        await Eventually.WaitAsync(() => Task.FromResult(_sources.TrueForAll(s => s.HasDiscovered)), seen => seen, Deadline, "both sources discovered");
        Assert.Null(Gateway.Admin.Readiness.Check(_topology!, _sources));
    }

    [Fact]
    public async Task Reconcile_NodeReadFails_OtherEndpointsJoinAtOnceAndTheFailedOneWhenARetryReadsIt()
    {
        const string node = "/api/v1/nodes/node-idc-2";
        var time = new CountingTimeProvider();
        _api.AddNode("node-idc-2", PoolLabel, "np-onprem");
        _api.FailNext("GET", node, count: 4, status: 500);
        _api.Apply(Slice("qwen-abc", "qwen",
            Endpoint("10.0.0.11", "node-idc-1", "qwen-0"), Endpoint("10.0.0.12", "node-idc-2", "qwen-2"), Endpoint("10.1.0.21", "node-ecs-1", "qwen-1")));
        var (onPrem, cloud) = await StartAsync(KubernetesLabelTarget.Node, time);

        // Each source read node-idc-2 once, in vain; the rest of the slice is in, and both wait to read it again.
        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Ready"]);
        await WaitForAsync(cloud, ["http://10.1.0.21:8000/ Ready"]);
        await WaitForTimersAsync(time, 4);
        Assert.All(_sources, source => Assert.True(source.HasDiscovered));
        Assert.Equal(2, _api.CountOf("GET", node));

        // Failed again after 1 s; the next try is 2 s later.
        time.Advance(KubernetesReplicaProvider.LabelRetryDelay);
        await WaitForTimersAsync(time, 6);
        Assert.Equal(4, _api.CountOf("GET", node));
        Assert.Equal(["http://10.0.0.11:8000/ Ready"], Describe(onPrem));

        time.Advance(TimeSpan.FromSeconds(2));
        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Ready", "http://10.0.0.12:8000/ Ready"]);

        // No watch event and no list brought it: the retry did (the cloud source's own retry may finish a moment later).
        await WaitForReadsAsync(node, 6);
        Assert.Equal((2, 2), (_api.ListCount, _api.WatchCount));
        Assert.Equal(["http://10.1.0.21:8000/ Ready"], Describe(cloud));

        // One warning per failed read, naming the node and the wait; the third read succeeded and said nothing.
        Assert.Equal(
            [
                "Pool on-prem could not read the label of node node-idc-2 (failure 1 in a row); its endpoints wait undecided and it is read again in 1 s",
                "Pool on-prem could not read the label of node node-idc-2 (failure 2 in a row); its endpoints wait undecided and it is read again in 2 s",
            ],
            _log.Entries.Where(e => e.EventId == 5006 && e.Message.StartsWith("Pool on-prem ", StringComparison.Ordinal)).Select(e => e.Message));
        Assert.All(_log.Entries.Where(e => e.EventId == 5006), e => Assert.Equal(LogLevel.Warning, e.Level));
    }

    [Fact]
    public async Task Reconcile_NodeReadHangs_OtherEndpointsJoinWithoutWaitingForIt()
    {
        const string node = "/api/v1/nodes/node-idc-2";
        _api.AddNode("node-idc-2", PoolLabel, "np-onprem");
        _api.StallNext("GET", node, count: 2, TimeSpan.FromSeconds(2));
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0"), Endpoint("10.0.0.12", "node-idc-2", "qwen-2")));
        var (onPrem, _) = await StartAsync(KubernetesLabelTarget.Node);

        // In while the first pass still waits on node-idc-2, so the pool has not been listed in full yet.
        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Ready"]);
        Assert.False(_sources[0].HasDiscovered);

        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Ready", "http://10.0.0.12:8000/ Ready"]);
        Assert.True(_sources[0].HasDiscovered);
    }

    [Fact]
    public async Task Reconcile_PodNotFoundThenCreated_JoinsItsPoolAfterTheRetryWithoutAWatchEvent()
    {
        const string pod = "/api/v1/namespaces/default/pods/qwen-1";
        var time = new CountingTimeProvider();
        _api.AddPod("default", "qwen-0", PoolLabel, "np-onprem");
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0"), Endpoint("10.1.0.21", "node-ecs-1", "qwen-1")));
        var (onPrem, cloud) = await StartAsync(KubernetesLabelTarget.Pod, time);

        // The endpoint names a pod the API server does not have (yet): 404 for both sources.
        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Ready"]);
        await WaitForTimersAsync(time, 4);
        Assert.Equal(2, _api.CountOf("GET", pod));
        Assert.Empty(cloud.Replicas);

        _api.AddPod("default", "qwen-1", PoolLabel, "np-cloud");
        time.Advance(KubernetesReplicaProvider.LabelRetryDelay);

        await WaitForAsync(cloud, ["http://10.1.0.21:8000/ Ready"]);
        await WaitForReadsAsync(pod, 4);
        Assert.Equal(2, _api.ListCount);
        Assert.Equal(["http://10.0.0.11:8000/ Ready"], Describe(onPrem));
    }

    [Fact]
    public async Task Relist_NodeReadFails_KnownReplicaStaysAsItWasUntilTheRetryReadsIt()
    {
        const string node = "/api/v1/nodes/node-idc-1";
        var time = new CountingTimeProvider();
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0"), Endpoint("10.0.0.12", "node-idc-1", "qwen-2")));
        var (onPrem, _) = await StartAsync(KubernetesLabelTarget.Node, time);
        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Ready", "http://10.0.0.12:8000/ Ready"]);
        await WaitForWatchesAsync(2);
        var replicas = onPrem.Replicas.ToArray();

        // Unseen, one endpoint goes unready; the watches expire, and the fresh list cannot read the node again.
        _api.FailNext("GET", node, count: 2, status: 503);
        _api.ApplySilently(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0", ready: false), Endpoint("10.0.0.12", "node-idc-1", "qwen-2")));
        _api.ExpireWatches();
        await WaitForListsAsync(4);

        // Both sources logged their failed read, which they do once its retry is scheduled; moving the clock is safe
        // from then on, whether or not a source has set its timer yet (a wait already due is not waited for).
        await Eventually.WaitAsync(
            () => Task.FromResult(_log.Entries.Count(e => e.EventId == 5006)), seen => seen == 2, Deadline, "2 failed label reads logged");

        // Whether they still belong is unknown: neither removed nor changed.
        Assert.Equal(4, _api.CountOf("GET", node));
        Assert.Equal(["http://10.0.0.11:8000/ Ready", "http://10.0.0.12:8000/ Ready"], Describe(onPrem));
        Assert.Equal(replicas, onPrem.Replicas);

        time.Advance(KubernetesReplicaProvider.LabelRetryDelay);
        await WaitForAsync(onPrem, ["http://10.0.0.11:8000/ Provisioning", "http://10.0.0.12:8000/ Ready"]);
        Assert.Equal(replicas, onPrem.Replicas);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(5, 16)]
    [InlineData(6, 30)]
    [InlineData(1000, 30)]
    public void LabelRetryDelayAfter_FailuresInARow_DoublesFromOneSecondUpToThirty(int failures, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), KubernetesReplicaProvider.LabelRetryDelayAfter(failures));
    }

    private async Task<(Pool OnPrem, Pool Cloud)> StartAsync(KubernetesLabelTarget labelOn, TimeProvider? time = null, double resyncSeconds = 300)
    {
        var onPremSource = Source("on-prem", "np-onprem", labelOn, resyncSeconds);
        var cloudSource = Source("cloud", "np-cloud", labelOn, resyncSeconds);
        var options = new GatewayOptions
        {
            Services =
            [
                new ServiceOptions
                {
                    Name = "qwen-chat",
                    Models = ["qwen"],
                    Pools =
                    [
                        new PoolOptions { Name = "on-prem", Priority = 0, Kubernetes = onPremSource },
                        new PoolOptions { Name = "cloud", Priority = 1, Kubernetes = cloudSource },
                    ],
                },
            ],
        };
        Assert.Empty(GatewayOptionsValidator.Check(options));

        var topology = new GatewayTopology(options);
        _topology = topology;
        var service = topology.Find("qwen-chat", "default")!;
        var onPrem = service.FindPool("on-prem")!;
        var cloud = service.FindPool("cloud")!;
        foreach (var (pool, source) in new[] { (onPrem, onPremSource), (cloud, cloudSource) })
        {
            var replicaSource = new KubernetesReplicaProvider(pool, source, _client, time ?? TimeProvider.System, _log);
            _sources.Add(replicaSource);
            await replicaSource.StartAsync(CancellationToken.None);
        }

        return (onPrem, cloud);
    }

    private static KubernetesSourceOptions Source(string pool, string poolId, KubernetesLabelTarget labelOn, double resyncSeconds) => new()
    {
        Namespace = "default",
        ServiceName = "qwen",
        Port = pool == "cloud" ? "8000" : "http",
        PoolLabel = PoolLabel,
        PoolLabelValue = poolId,
        LabelOn = labelOn,
        ResyncSeconds = resyncSeconds,
    };

    private static string[] Describe(Pool pool) => [.. pool.Replicas.Select(r => $"{r.Address} {r.State}").Order(StringComparer.Ordinal)];

    private static Task<string[]> WaitForAsync(Pool pool, string[] expected) =>
        Eventually.WaitAsync(
            () => Task.FromResult(Describe(pool)),
            seen => seen.SequenceEqual(expected),
            Deadline,
            $"pool {pool.Name} holding [{string.Join(", ", expected)}]");

    /// <summary>Both pools' sources list on their own: one pool can be up to date before the other has listed.</summary>
    private Task<int> WaitForListsAsync(int count) =>
        Eventually.WaitAsync(() => Task.FromResult(_api.ListCount), seen => seen == count, Deadline, $"{count} lists");

    private Task<int> WaitForWatchesAsync(int count) =>
        Eventually.WaitAsync(() => Task.FromResult(_api.WatchCount), seen => seen == count, Deadline, $"{count} open watches");

    private Task<int> WaitForReadsAsync(string path, int count) =>
        Eventually.WaitAsync(() => Task.FromResult(_api.CountOf("GET", path)), seen => seen == count, Deadline, $"{count} reads of {path}");

    /// <summary>Timers on the fake clock: each source's resync, plus its wait for a label read due again once one failed.</summary>
    private static Task<int> WaitForTimersAsync(CountingTimeProvider time, int count) =>
        Eventually.WaitAsync(() => Task.FromResult(time.Timers), seen => seen == count, Deadline, $"{count} timers on the fake clock");

    /// <summary>A fake clock that counts the timers made on it, so a test knows a delay has begun before it moves the clock.</summary>
    private sealed class CountingTimeProvider() : FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
        private int _timers;

        public int Timers => Volatile.Read(ref _timers);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _timers);
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}

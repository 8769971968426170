using Gateway.Configuration;
using Gateway.Model;
using Gateway.Testing;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Kubernetes.Tests.EndpointSlices;

namespace Gateway.Kubernetes.Tests;

public sealed class KubernetesReplicaProviderTests : IAsyncLifetime, IDisposable
{
    private const string PoolLabel = "alibabacloud.com/nodepool-id";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly List<KubernetesReplicaProvider> _sources = [];
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
            var replicaSource = new KubernetesReplicaProvider(pool, source, _client, time ?? TimeProvider.System, NullLogger<KubernetesReplicaProvider>.Instance);
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

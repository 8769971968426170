using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers;
using Gateway.Testing;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static Gateway.Kubernetes.Tests.EndpointSlices;

namespace Gateway.Kubernetes.Tests;

/// <summary>The scaler's calls as the (fake, in-process) API server receives them: method, path, content type, exact body.</summary>
public sealed class KubernetesPoolScalerTests : IAsyncLifetime, IDisposable
{
    private const string PoolLabel = "alibabacloud.com/nodepool-id";
    private const string MergePatch = "application/merge-patch+json";
    private const string DeploymentScalePath = "/apis/apps/v1/namespaces/default/deployments/qwen-cloud/scale";
    private const string InferenceServicePath = "/apis/serving.kserve.io/v1beta1/namespaces/default/inferenceservices/qwen";
    private const string DeletionCostBody = """{"metadata":{"annotations":{"controller.kubernetes.io/pod-deletion-cost":"-1000"}}}""";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private FakeKubernetesApi _api = null!;
    private k8s.Kubernetes _client = null!;
    private KubernetesReplicaProvider? _source;
    private Pool _pool = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeKubernetesApi.StartAsync();
        _client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _api.Url });
        _api.AddNode("node-ecs-1", PoolLabel, "np-cloud");
        _api.AddDeployment("default", "qwen-cloud", replicas: 0);
        _pool = Topology().Find("qwen-chat", "default")!.FindPool("cloud")!;
    }

    public async Task DisposeAsync()
    {
        if (_source is not null)
        {
            await _source.DisposeAsync();
        }

        await _api.DisposeAsync();
    }

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task ScaleOut_Deployment_MergePatchesReplicasOnTheScaleSubresource()
    {
        var scaler = Scaler(KubernetesScaleTargetKind.Deployment, "qwen-cloud");

        await scaler.ScaleOutAsync(new ScaleRequest(_pool, 2, 0, "demand 5"), CancellationToken.None);

        var patch = Assert.Single(_api.Writes());
        Assert.Equal(("PATCH", DeploymentScalePath, MergePatch, """{"spec":{"replicas":2}}"""), (patch.Method, patch.Path, MediaType(patch), patch.Body));
        Assert.Equal(2, (int)_api.Find("deployments/scale", "default", "qwen-cloud")!["spec"]!["replicas"]!);
    }

    [Fact]
    public async Task ScaleOut_SameCountTwice_WritesTheSameCountTwice()
    {
        var scaler = Scaler(KubernetesScaleTargetKind.Deployment, "qwen-cloud");

        await scaler.ScaleOutAsync(new ScaleRequest(_pool, 2, 0, "demand 5"), CancellationToken.None);
        await scaler.ScaleOutAsync(new ScaleRequest(_pool, 2, 0, "demand 5"), CancellationToken.None);

        Assert.Equal(["""{"spec":{"replicas":2}}""", """{"spec":{"replicas":2}}"""], _api.Writes().Select(w => w.Body));
        Assert.Equal(2, (int)_api.Find("deployments/scale", "default", "qwen-cloud")!["spec"]!["replicas"]!);
    }

    [Fact]
    public async Task ScaleIn_Deployment_MarksTheDrainedPodCheapestThenLowersReplicas()
    {
        var (_, leaving) = await StartSourceWithTwoPodsAsync();
        var scaler = Scaler(KubernetesScaleTargetKind.Deployment, "qwen-cloud");

        await scaler.ScaleInAsync(leaving, new ScaleRequest(_pool, 1, 2, "demand 0"), CancellationToken.None);

        Assert.Equal(
            [
                ("PATCH", "/api/v1/namespaces/default/pods/qwen-cloud-b", MergePatch, DeletionCostBody),
                ("PATCH", DeploymentScalePath, MergePatch, """{"spec":{"replicas":1}}"""),
            ],
            _api.Writes().Select(w => (w.Method, w.Path, MediaType(w), w.Body)));
        Assert.Equal("-1000", (string?)_api.Find("pods", "default", "qwen-cloud-b")!["metadata"]!["annotations"]!["controller.kubernetes.io/pod-deletion-cost"]);
    }

    [Fact]
    public async Task Drain_EndpointChangesWhileItsPodIsReady_ReplicaStaysDraining()
    {
        var (staying, leaving) = await StartSourceWithTwoPodsAsync();

        // As the scaling loop's drain does, before any scaler call: an EndpointSlice event meanwhile must not put the
        // replica back in rotation, or its drain would never end and it would be removed with requests in flight.
        leaving.SetState(ReplicaState.Draining);
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.1.0.21", "node-ecs-1", "qwen-cloud-a"), Endpoint("10.1.0.22", "node-ecs-1", "qwen-cloud-b"), Endpoint("10.1.0.23", "node-ecs-1", "qwen-cloud-c", ready: false)));

        await WaitForAsync(["http://10.1.0.21:8000/ Ready", "http://10.1.0.22:8000/ Draining", "http://10.1.0.23:8000/ Provisioning"]);
        Assert.Equal(ReplicaState.Ready, staying.State);
    }

    [Fact]
    public async Task ScaleIn_PodStillReadyInItsEndpoint_StaysDrainingUntilItsPodIsGone()
    {
        var (staying, leaving) = await StartSourceWithTwoPodsAsync();
        var scaler = Scaler(KubernetesScaleTargetKind.Deployment, "qwen-cloud");

        // As the scaling loop does: retired from its source, then scaled in.
        _source!.Retire(leaving);
        await scaler.ScaleInAsync(leaving, new ScaleRequest(_pool, 1, 2, "demand 0"), CancellationToken.None);

        // The ReplicaSet has not deleted the pod yet and its endpoint changes while still ready: it must not serve again.
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.1.0.21", "node-ecs-1", "qwen-cloud-a"), Endpoint("10.1.0.22", "node-ecs-1", "qwen-cloud-b"), Endpoint("10.1.0.23", "node-ecs-1", "qwen-cloud-c", ready: false)));
        await WaitForAsync(["http://10.1.0.21:8000/ Ready", "http://10.1.0.22:8000/ Draining", "http://10.1.0.23:8000/ Provisioning"]);
        Assert.Equal(ReplicaState.Ready, staying.State);

        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.1.0.21", "node-ecs-1", "qwen-cloud-a"), Endpoint("10.1.0.23", "node-ecs-1", "qwen-cloud-c", ready: false)));
        await WaitForAsync(["http://10.1.0.21:8000/ Ready", "http://10.1.0.23:8000/ Provisioning"]);
        Assert.Equal(ReplicaState.Stopped, leaving.State);
    }

    [Fact]
    public async Task ScaleOut_InferenceService_RaisesTheFloorOnlyAndLeavesTheHpaItsCeiling()
    {
        _api.AddInferenceService("default", "qwen", minReplicas: 0, maxReplicas: 4);
        var scaler = Scaler(KubernetesScaleTargetKind.InferenceService, "qwen");

        await scaler.ScaleOutAsync(new ScaleRequest(_pool, 2, 0, "demand 5"), CancellationToken.None);

        var patch = Assert.Single(_api.Writes());
        Assert.Equal(("PATCH", InferenceServicePath, MergePatch, """{"spec":{"predictor":{"minReplicas":2}}}"""), (patch.Method, patch.Path, MediaType(patch), patch.Body));
        var predictor = _api.Find("inferenceservices", "default", "qwen")!["spec"]!["predictor"]!;
        Assert.Equal((2, 4), ((int)predictor["minReplicas"]!, (int)predictor["maxReplicas"]!));
    }

    [Fact]
    public async Task ScaleOut_InferenceServiceFloorAlreadyHigher_KeepsIt()
    {
        _api.AddInferenceService("default", "qwen", minReplicas: 3, maxReplicas: 4);
        var scaler = Scaler(KubernetesScaleTargetKind.InferenceService, "qwen");

        await scaler.ScaleOutAsync(new ScaleRequest(_pool, 2, 1, "demand 5"), CancellationToken.None);

        Assert.Equal(["""{"spec":{"predictor":{"minReplicas":3}}}"""], _api.Writes().Select(w => w.Body));
    }

    [Fact]
    public async Task ScaleIn_InferenceService_MarksThePodAndLowersTheFloor()
    {
        _api.AddInferenceService("default", "qwen", minReplicas: 2, maxReplicas: 4);
        var (_, leaving) = await StartSourceWithTwoPodsAsync();
        var scaler = Scaler(KubernetesScaleTargetKind.InferenceService, "qwen");

        await scaler.ScaleInAsync(leaving, new ScaleRequest(_pool, 1, 2, "demand 0"), CancellationToken.None);

        Assert.Equal(
            [
                ("PATCH", "/api/v1/namespaces/default/pods/qwen-cloud-b", MergePatch, DeletionCostBody),
                ("PATCH", InferenceServicePath, MergePatch, """{"spec":{"predictor":{"minReplicas":1}}}"""),
            ],
            _api.Writes().Select(w => (w.Method, w.Path, MediaType(w), w.Body)));
    }

    [Fact]
    public async Task ScaleIn_InferenceServiceAboveItsFloor_NeverRaisesTheFloor()
    {
        // The HPA went to two pods above a floor of 0 for its own reasons; giving one back must not lock one in.
        _api.AddInferenceService("default", "qwen", minReplicas: 0, maxReplicas: 4);
        var (_, leaving) = await StartSourceWithTwoPodsAsync();
        var scaler = Scaler(KubernetesScaleTargetKind.InferenceService, "qwen");

        await scaler.ScaleInAsync(leaving, new ScaleRequest(_pool, 1, 2, "demand 0"), CancellationToken.None);

        Assert.Equal("""{"spec":{"predictor":{"minReplicas":0}}}""", _api.Writes()[^1].Body);
    }

    [Fact]
    public async Task Create_PoolWithKubernetesScaleTarget_PatchesInTheSourcesNamespaceWhenNoneIsGiven()
    {
        _api.AddDeployment("inference", "qwen-cloud", replicas: 0);
        var options = PoolOptions("inference");
        var services = new ServiceCollection()
            .AddSingleton<IKubernetes>(_client)
            .AddSingleton(TimeProvider.System)
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .AddSingleton(typeof(ILogger<>), typeof(Logger<>))
            .AddKubernetes(_ => null)
            .BuildServiceProvider();
        var pool = new Pool(options, "qwen-chat", "default");
        await using var source = (KubernetesReplicaProvider)new ReplicaProviders(Topology(), services.GetServices<IReplicaProviderFactory>()).Create(pool);

        var scaler = ((IReplicaProvider)source).Scaler;

        await Assert.IsType<KubernetesPoolScaler>(scaler).ScaleOutAsync(new ScaleRequest(pool, 1, 0, "demand 1"), CancellationToken.None);
        Assert.Equal("/apis/apps/v1/namespaces/inference/deployments/qwen-cloud/scale", Assert.Single(_api.Writes()).Path);
    }

    private static string? MediaType(RecordedRequest request) =>
        request.ContentType is { } type ? System.Net.Http.Headers.MediaTypeHeaderValue.Parse(type).MediaType : null;

    private static PoolOptions PoolOptions(string @namespace) => new()
    {
        Name = "cloud",
        Priority = 1,
        Kubernetes = new KubernetesSourceOptions { Namespace = @namespace, ServiceName = "qwen", Port = "http", PoolLabel = PoolLabel, PoolLabelValue = "np-cloud" },
        Scaling = new ScalingOptions
        {
            MinReplicas = 0,
            MaxReplicas = 2,
            Kubernetes = new KubernetesScaleTargetOptions { Kind = KubernetesScaleTargetKind.Deployment, Name = "qwen-cloud" },
        },
    };

    private static GatewayTopology Topology()
    {
        var options = new GatewayOptions
        {
            Services = [new ServiceOptions { Name = "qwen-chat", Models = ["qwen"], Pools = [PoolOptions("default")] }],
        };
        Assert.Empty(GatewayOptionsValidator.Check(options));
        return new GatewayTopology(options);
    }

    private KubernetesPoolScaler Scaler(KubernetesScaleTargetKind kind, string name) =>
        new(kind, name, "default", _source, _client, NullLogger<KubernetesPoolScaler>.Instance);

    /// <summary>Two ready pods on a cloud node, discovered by a real source; the second (newest) is the one to give back.</summary>
    private async Task<(Replica Staying, Replica Leaving)> StartSourceWithTwoPodsAsync()
    {
        _api.AddPod("default", "qwen-cloud-a", PoolLabel, "np-cloud");
        _api.AddPod("default", "qwen-cloud-b", PoolLabel, "np-cloud");
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.1.0.21", "node-ecs-1", "qwen-cloud-a"), Endpoint("10.1.0.22", "node-ecs-1", "qwen-cloud-b")));
        _source = new KubernetesReplicaProvider(_pool, PoolOptions("default").Kubernetes!, _client, TimeProvider.System, NullLogger<KubernetesReplicaProvider>.Instance);
        await _source.StartAsync(CancellationToken.None);
        await WaitForAsync(["http://10.1.0.21:8000/ Ready", "http://10.1.0.22:8000/ Ready"]);
        Assert.Equal(new PodReference("default", "qwen-cloud-b"), _source.FindPod(_pool.Replicas[1]));
        return (_pool.Replicas[0], _pool.Replicas[1]);
    }

    private Task<string[]> WaitForAsync(string[] expected) =>
        Eventually.WaitAsync(
            () => Task.FromResult(_pool.Replicas.Select(r => $"{r.Address} {r.State}").Order(StringComparer.Ordinal).ToArray()),
            seen => seen.SequenceEqual(expected),
            Deadline,
            $"pool holding [{string.Join(", ", expected)}]");
}

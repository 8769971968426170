using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers;
using Gateway.Testing;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using static Gateway.Kubernetes.Tests.EndpointSlices;

namespace Gateway.Kubernetes.Tests;

/// <summary>
/// One InferenceService serving two pools (ACK's ResourcePolicy puts its pods on-prem first, then in the cloud): its
/// <c>minReplicas</c> counts every pod, so the cloud pool's floor is its own count plus the pods of the other pools.
/// </summary>
public sealed class InferenceServiceFloorTests : IAsyncLifetime, IDisposable
{
    private const string PoolLabel = "alibabacloud.com/nodepool-id";
    private const string Path = "/apis/serving.kserve.io/v1beta1/namespaces/default/inferenceservices/qwen-chat";

    private FakeKubernetesApi _api = null!;
    private k8s.Kubernetes _client = null!;
    private KubernetesReplicaProvider _source = null!;
    private Pool _pool = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeKubernetesApi.StartAsync();
        _client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _api.Url });
        _api.AddNode("node-edge-1", PoolLabel, "np-onprem");
        _api.AddNode("node-elastic-1", PoolLabel, "np-cloud");
        var options = new PoolOptions
        {
            Name = "cloud-elastic",
            Priority = 1,
            Kubernetes = new KubernetesSourceOptions { ServiceName = "qwen-chat-predictor", Port = "http", PoolLabel = PoolLabel, PoolLabelValue = "np-cloud" },
            Scaling = new ScalingOptions
            {
                MaxReplicas = 2,
                Kubernetes = new KubernetesScaleTargetOptions { Kind = KubernetesScaleTargetKind.InferenceService, Name = "qwen-chat", SetPodDeletionCost = false },
            },
        };
        _pool = new Pool(options, "qwen-chat", "default");
        _source = new KubernetesReplicaProvider(_pool, options.Kubernetes, _client, TimeProvider.System, NullLogger<KubernetesReplicaProvider>.Instance);
    }

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        await _api.DisposeAsync();
    }

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task ScaleOut_WithOnePodOnPrem_RaisesTheFloorToTheCloudCountPlusThatPod()
    {
        _api.AddInferenceService("default", "qwen-chat", minReplicas: 1, maxReplicas: 3);
        await StartAsync(Endpoint("10.0.0.11", "node-edge-1", "qwen-chat-predictor-a"));
        Assert.Equal(1, _source.PodsInOtherPools);

        await Scaler().ScaleOutAsync(new ScaleRequest(_pool, 2, 0, "demand 20"), CancellationToken.None);

        Assert.Equal([("PATCH", Path, """{"spec":{"predictor":{"minReplicas":3}}}""")], _api.Writes().Select(w => (w.Method, w.Path, w.Body)));
    }

    [Fact]
    public async Task ScaleIn_WithOnePodOnPremAndTwoInTheCloud_LowersTheFloorByOne_AndATerminatingPodCountsForNoPool()
    {
        _api.AddInferenceService("default", "qwen-chat", minReplicas: 3, maxReplicas: 3);
        await StartAsync(
            Endpoint("10.0.0.11", "node-edge-1", "qwen-chat-predictor-a"),
            Endpoint("10.0.0.12", "node-edge-1", "qwen-chat-predictor-old", ready: false, terminating: true),
            Endpoint("10.1.0.21", "node-elastic-1", "qwen-chat-predictor-b"),
            Endpoint("10.1.0.22", "node-elastic-1", "qwen-chat-predictor-c"));
        Assert.Equal(1, _source.PodsInOtherPools);
        var leaving = _pool.Replicas.Single(r => r.Address.Host == "10.1.0.22");
        _source.Retire(leaving);

        await Scaler().ScaleInAsync(leaving, new ScaleRequest(_pool, 1, 2, "demand 0"), CancellationToken.None);

        Assert.Equal([("PATCH", Path, """{"spec":{"predictor":{"minReplicas":2}}}""")], _api.Writes().Select(w => (w.Method, w.Path, w.Body)));
    }

    private KubernetesPoolScaler Scaler() =>
        new(KubernetesScaleTargetKind.InferenceService, "qwen-chat", "default", _source, _client, NullLogger<KubernetesPoolScaler>.Instance, setPodDeletionCost: false);

    private async Task StartAsync(params System.Text.Json.Nodes.JsonObject[] endpoints)
    {
        _api.Apply(Slice("qwen-chat-predictor-abc", "qwen-chat-predictor", endpoints));
        await _source.StartAsync(CancellationToken.None);
        var cloud = endpoints.Count(e => (string?)e["nodeName"] == "node-elastic-1");
        await Eventually.WaitAsync(
            () => Task.FromResult((_pool.Replicas.Count, _source.PodsInOtherPools)),
            seen => seen == (cloud, 1),
            TimeSpan.FromSeconds(10),
            $"{cloud} cloud replicas and 1 on-prem pod seen");
    }
}

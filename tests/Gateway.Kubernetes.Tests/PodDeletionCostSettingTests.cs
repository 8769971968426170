using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers;
using Gateway.Testing;
using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static Gateway.Kubernetes.Tests.EndpointSlices;

namespace Gateway.Kubernetes.Tests;

/// <summary>
/// <c>Scaling:Kubernetes:SetPodDeletionCost</c>, from configuration to the API server: off (beside ACK's
/// ResourcePolicy, which forbids the annotation), scale-in writes only the floor or the count, never a pod, and the
/// replica given back still leaves rotation drained.
/// </summary>
public sealed class PodDeletionCostSettingTests : IAsyncLifetime, IDisposable
{
    private const string PoolLabel = "alibabacloud.com/nodepool-id";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private FakeKubernetesApi _api = null!;
    private k8s.Kubernetes _client = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeKubernetesApi.StartAsync();
        _client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _api.Url });
        _api.AddNode("node-elastic-1", PoolLabel, "np-cloud");
        _api.AddPod("default", "qwen-chat-predictor-a", PoolLabel, "np-cloud");
        _api.AddPod("default", "qwen-chat-predictor-b", PoolLabel, "np-cloud");
        _api.AddInferenceService("default", "qwen-chat", minReplicas: 2, maxReplicas: 3);
        _api.AddDeployment("default", "qwen-vllm-cloud", replicas: 2);
        _api.Apply(Slice(
            "qwen-chat-predictor-abc",
            "qwen-chat-predictor",
            Endpoint("10.1.0.21", "node-elastic-1", "qwen-chat-predictor-a"),
            Endpoint("10.1.0.22", "node-elastic-1", "qwen-chat-predictor-b")));
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    public void Dispose() => _client.Dispose();

    [Fact]
    public void SetPodDeletionCost_IsOnUnlessConfiguredOff()
    {
        Assert.True(new KubernetesScaleTargetOptions().SetPodDeletionCost);
        Assert.False(Load("false").Services[0].Pools[0].Scaling!.Kubernetes!.SetPodDeletionCost);
        Assert.True(Load("true").Services[0].Pools[0].Scaling!.Kubernetes!.SetPodDeletionCost);
    }

    [Fact]
    public void SetPodDeletionCost_NotABoolean_IsRefusedNamingTheKey()
    {
        var error = Assert.Throws<GatewayConfigurationException>(() => Load("sometimes"));

        var message = Assert.Single(error.Errors);
        Assert.Contains("Gateway:Services:0:Pools:0:Scaling:Kubernetes:SetPodDeletionCost", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(KubernetesScaleTargetKind.InferenceService, "/apis/serving.kserve.io/v1beta1/namespaces/default/inferenceservices/qwen-chat", """{"spec":{"predictor":{"minReplicas":1}}}""")]
    [InlineData(KubernetesScaleTargetKind.Deployment, "/apis/apps/v1/namespaces/default/deployments/qwen-vllm-cloud/scale", """{"spec":{"replicas":1}}""")]
    public async Task ScaleIn_DeletionCostOff_WritesOnlyTheCount_AndTheReplicaStaysDrainingUntilItsPodIsGone(
        KubernetesScaleTargetKind kind, string path, string body)
    {
        var name = kind == KubernetesScaleTargetKind.InferenceService ? "qwen-chat" : "qwen-vllm-cloud";
        var options = Load("false", kind, name);
        var pool = new Pool(options.Services[0].Pools[0], "qwen-chat", "default");
        await using var services = Services();
        await using var source = (KubernetesReplicaProvider)new ReplicaProviders(new GatewayTopology(options), services.GetServices<IReplicaProviderFactory>()).Create(pool);
        await source.StartAsync(CancellationToken.None);
        await WaitForAsync(pool, ["http://10.1.0.21:8000/ Ready", "http://10.1.0.22:8000/ Ready"]);
        var leaving = pool.Replicas.Single(r => r.Address.ToString() == "http://10.1.0.22:8000/");

        // As the scaling loop does: drained (retired from its source), then scaled in.
        source.Retire(leaving);
        await ((IReplicaProvider)source).Scaler!.ScaleInAsync(leaving, new ScaleRequest(pool, 1, 2, "demand 0"), CancellationToken.None);

        var write = Assert.Single(_api.Writes());
        Assert.Equal(("PATCH", path, body), (write.Method, write.Path, write.Body));
        Assert.Null(_api.Find("pods", "default", "qwen-chat-predictor-b")!["metadata"]!["annotations"]);
        Assert.Equal(ReplicaState.Draining, leaving.State);

        // The ResourcePolicy (or the ReplicaSet) removes a pod of its choosing; the gateway's replica goes with its own pod only.
        _api.Apply(Slice("qwen-chat-predictor-abc", "qwen-chat-predictor", Endpoint("10.1.0.21", "node-elastic-1", "qwen-chat-predictor-a")));
        await WaitForAsync(pool, ["http://10.1.0.21:8000/ Ready"]);
        Assert.Equal(ReplicaState.Stopped, leaving.State);
    }

    private static GatewayOptions Load(string setPodDeletionCost, KubernetesScaleTargetKind kind = KubernetesScaleTargetKind.InferenceService, string name = "qwen-chat")
    {
        const string Pool = "Gateway:Services:0:Pools:0:";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Services:0:Name"] = "qwen-chat",
            ["Gateway:Services:0:Models:0"] = "qwen",
            [Pool + "Name"] = "cloud-elastic",
            [Pool + "Priority"] = "1",
            [Pool + "CapacityPerReplica"] = "8",
            [Pool + "Kubernetes:ServiceName"] = "qwen-chat-predictor",
            [Pool + "Kubernetes:Port"] = "http",
            [Pool + "Kubernetes:PoolLabelValue"] = "np-cloud",
            [Pool + "Scaling:MinReplicas"] = "0",
            [Pool + "Scaling:MaxReplicas"] = "2",
            [Pool + "Scaling:Kubernetes:Kind"] = kind.ToString(),
            [Pool + "Scaling:Kubernetes:Name"] = name,
            [Pool + "Scaling:Kubernetes:SetPodDeletionCost"] = setPodDeletionCost,
        }).Build();
        return GatewayConfiguration.Load(configuration);
    }

    private ServiceProvider Services() => new ServiceCollection()
        .AddSingleton<IKubernetes>(_client)
        .AddSingleton(TimeProvider.System)
        .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
        .AddSingleton(typeof(ILogger<>), typeof(Logger<>))
        .AddKubernetes(_ => null)
        .BuildServiceProvider();

    private static Task<string[]> WaitForAsync(Pool pool, string[] expected) =>
        Eventually.WaitAsync(
            () => Task.FromResult(pool.Replicas.Select(r => $"{r.Address} {r.State}").Order(StringComparer.Ordinal).ToArray()),
            seen => seen.SequenceEqual(expected),
            Deadline,
            $"pool holding [{string.Join(", ", expected)}]");
}

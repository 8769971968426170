using System.Diagnostics;
using System.Net;
using System.Text;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Testing;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static Gateway.Kubernetes.Tests.EndpointSlices;

namespace Gateway.Kubernetes.Tests;

/// <summary>
/// The retries and timeouts of the gateway's API client, as <c>AddKubernetes</c> builds it, against the fake API
/// server on loopback (no real API server exists where these tests run), which answers chosen requests with a
/// failure or hangs before answering. They run on the real clock: the client's pipeline waits on it.
/// </summary>
public sealed class KubernetesApiResilienceTests : IAsyncLifetime
{
    private const string PoolLabel = "alibabacloud.com/nodepool-id";
    private const string NodePath = "/api/v1/nodes/node-idc-1";
    private const string SlicesPath = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";
    private const string ScalePath = "/apis/apps/v1/namespaces/default/deployments/qwen-cloud/scale";
    private const string LeasesPath = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly List<ServiceProvider> _services = [];
    private FakeKubernetesApi _api = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeKubernetesApi.StartAsync();
        _api.AddNode("node-idc-1", PoolLabel, "np-onprem");
        _api.AddDeployment("default", "qwen-cloud", replicas: 0);
    }

    public async Task DisposeAsync()
    {
        foreach (var services in _services)
        {
            await services.DisposeAsync();
        }

        await _api.DisposeAsync();
    }

    [Fact]
    public async Task Get_429WithRetryAfter_SentAgainOnceTheServersDelayHasPassed()
    {
        _api.FailNext("GET", NodePath, count: 1, status: 429, retryAfterSeconds: 1);
        var client = Client();
        var clock = Stopwatch.StartNew();

        var node = await client.CoreV1.ReadNodeAsync("node-idc-1");

        Assert.Equal("np-onprem", node.Metadata.Labels[PoolLabel]);
        Assert.Equal(2, _api.CountOf("GET", NodePath));

        // The server asked for a second: a loose bound, the retry must not come before it.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"answered after {clock.Elapsed}");
    }

    [Fact]
    public async Task Get_503_SentAgainAndSucceeds()
    {
        _api.FailNext("GET", NodePath, count: 1, status: 503);

        var node = await Client().CoreV1.ReadNodeAsync("node-idc-1");

        Assert.Equal("np-onprem", node.Metadata.Labels[PoolLabel]);
        Assert.Equal(2, _api.CountOf("GET", NodePath));
    }

    [Fact]
    public async Task Get_FailsMoreThanMaxRetries_GivesUpWithTheLastAnswer()
    {
        _api.FailNext("GET", NodePath, count: 3, status: 500);

        var e = await Assert.ThrowsAsync<HttpOperationException>(() => Client(maxRetries: 2).CoreV1.ReadNodeAsync("node-idc-1"));

        Assert.Equal((HttpStatusCode.InternalServerError, 3), (e.Response.StatusCode, _api.CountOf("GET", NodePath)));
    }

    [Fact]
    public async Task Get_404_NotSentAgain()
    {
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => Client().CoreV1.ReadNodeAsync("node-gone"));

        Assert.Equal((HttpStatusCode.NotFound, 1), (e.Response.StatusCode, _api.CountOf("GET", "/api/v1/nodes/node-gone")));
    }

    [Fact]
    public async Task Get_StallsPastTheTimeout_AbandonedAndSentAgain()
    {
        _api.StallNext("GET", NodePath, count: 1, TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();

        var node = await Client(timeoutSeconds: 1).CoreV1.ReadNodeAsync("node-idc-1");

        Assert.Equal("np-onprem", node.Metadata.Labels[PoolLabel]);
        Assert.Equal(2, _api.CountOf("GET", NodePath));

        // Loose: only that the first attempt was not waited out.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"answered after {clock.Elapsed}");
    }

    [Fact]
    public async Task Get_StallsOnEveryAttempt_FailsWithTheTimeout()
    {
        _api.StallNext("GET", NodePath, count: 2, TimeSpan.FromSeconds(30));

        await Assert.ThrowsAsync<Polly.Timeout.TimeoutRejectedException>(
            () => Client(timeoutSeconds: 0.2, maxRetries: 1).CoreV1.ReadNodeAsync("node-idc-1"));

        Assert.Equal(2, _api.CountOf("GET", NodePath));
    }

    [Fact]
    public async Task MergePatchOfScale_503_SentAgainAndAppliedOnce()
    {
        _api.FailNext("PATCH", ScalePath, count: 1, status: 503);
        var patch = new V1Patch("""{"spec":{"replicas":2}}""", V1Patch.PatchType.MergePatch);

        await Client().AppsV1.PatchNamespacedDeploymentScaleAsync(patch, "qwen-cloud", "default");

        Assert.Equal(2, _api.CountOf("PATCH", ScalePath));
        Assert.Equal(2, (int)_api.Find("deployments/scale", "default", "qwen-cloud")!["spec"]!["replicas"]!);
    }

    [Fact]
    public async Task CreateLease_503_NotSentAgain()
    {
        _api.FailNext("POST", LeasesPath, count: 1, status: 503);

        var e = await Assert.ThrowsAsync<HttpOperationException>(() => Client().CoordinationV1.CreateNamespacedLeaseAsync(Lease(), "default"));

        Assert.Equal((HttpStatusCode.ServiceUnavailable, 1), (e.Response.StatusCode, _api.CountOf("POST", LeasesPath)));
        Assert.Null(_api.Find("leases", "default", "qwen-gateway"));
    }

    [Fact]
    public async Task CreateLease_429_SentAgainSinceTheServerDidNotProcessIt()
    {
        _api.FailNext("POST", LeasesPath, count: 1, status: 429, retryAfterSeconds: 1);

        await Client().CoordinationV1.CreateNamespacedLeaseAsync(Lease(), "default");

        Assert.Equal(2, _api.CountOf("POST", LeasesPath));
        Assert.Equal("gateway-a", (string?)_api.Find("leases", "default", "qwen-gateway")!["spec"]!["holderIdentity"]);
    }

    [Fact]
    public async Task Watch_OpenLongerThanTheTimeout_KeepsDeliveringEvents()
    {
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0")));
        var pool = OnPremPool();
        await using var source = new KubernetesReplicaProvider(
            pool, pool.Options.Kubernetes!, Client(timeoutSeconds: 0.3), TimeProvider.System, NullLogger<KubernetesReplicaProvider>.Instance);
        await source.StartAsync(CancellationToken.None);
        await WaitForAsync(pool, ["http://10.0.0.11:8000/ Ready"]);
        await Eventually.WaitAsync(() => Task.FromResult(_api.WatchCount), count => count == 1, Deadline, "the watch open");

        // Time passing is the point: several attempt timeouts go by with the watch idle.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0"), Endpoint("10.0.0.12", "node-idc-1", "qwen-2")));

        await WaitForAsync(pool, ["http://10.0.0.11:8000/ Ready", "http://10.0.0.12:8000/ Ready"]);

        // The first watch delivered it: had the timeout cut it, discovery would have listed and watched again. (The
        // list may have been tried twice: a first request in a fresh process can take longer than the short timeout.)
        Assert.Equal(1, _api.Requests.Count(r => r.Path == SlicesPath && r.Query.Contains("watch=true", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("GET", "/api/v1/nodes/a", null, false, true)]
    [InlineData("GET", SlicesPath + "?labelSelector=kubernetes.io%2Fservice-name%3Dqwen", null, false, true)]
    [InlineData("GET", SlicesPath + "?allowWatchBookmarks=true&labelSelector=x%3Dy&resourceVersion=101&watch=true", null, true, true)]
    [InlineData("GET", SlicesPath + "?watch=1", null, true, true)]
    [InlineData("GET", SlicesPath + "?watch=false", null, false, true)]
    [InlineData("PATCH", ScalePath, "application/merge-patch+json", false, true)]
    [InlineData("PATCH", ScalePath, "application/json-patch+json", false, false)]
    [InlineData("PUT", LeasesPath + "/qwen-gateway", "application/json", false, false)]
    [InlineData("POST", LeasesPath, "application/json", false, false)]
    public void Classify_Request_WatchesGoAroundAndOnlyReplayableCallsRetryEveryFailure(
        string method, string pathAndQuery, string? contentType, bool watch, bool replayable)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "https://10.96.0.1" + pathAndQuery);
        if (contentType is not null)
        {
            request.Content = new StringContent("{}", Encoding.UTF8, contentType);
        }

        Assert.Equal((watch, replayable), (KubernetesApiResilience.IsWatch(request), KubernetesApiResilience.IsReplayable(request)));
    }

    [Fact]
    public void Check_TimeoutAndRetriesOutOfRange_NameTheirKeys()
    {
        var options = new GatewayOptions { Kubernetes = new KubernetesClusterOptions { TimeoutSeconds = 0, MaxRetries = 11 } };

        var errors = GatewayOptionsValidator.Check(options);

        Assert.Contains("Gateway:Kubernetes:TimeoutSeconds: must be at least 0.01 and at most 100 seconds (KubernetesClient's limit on a whole call), got 0", errors);
        Assert.Contains("Gateway:Kubernetes:MaxRetries: must be between 0 and 10, got 11", errors);
    }

    [Fact]
    public void Check_DefaultTimeoutAndRetries_GiveNoErrorOfTheirOwn()
    {
        var errors = GatewayOptionsValidator.Check(new GatewayOptions());

        Assert.DoesNotContain(errors, e => e.StartsWith("Gateway:Kubernetes:", StringComparison.Ordinal));
        Assert.Equal((10.0, 3), (new KubernetesClusterOptions().TimeoutSeconds, new KubernetesClusterOptions().MaxRetries));
    }

    /// <summary>The API client exactly as a gateway host gets it from <c>AddKubernetes</c>, aimed at the fake.</summary>
    private IKubernetes Client(double timeoutSeconds = 10, int maxRetries = 3)
    {
        var services = new ServiceCollection()
            .AddSingleton(new GatewayOptions { Kubernetes = new KubernetesClusterOptions { TimeoutSeconds = timeoutSeconds, MaxRetries = maxRetries } })
            .AddSingleton(new KubernetesClientConfiguration { Host = _api.Url })
            .AddSingleton(TimeProvider.System)
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .AddKubernetes(_ => null)
            .BuildServiceProvider();
        _services.Add(services);
        return services.GetRequiredService<IKubernetes>();
    }

    private static V1Lease Lease() => new()
    {
        Metadata = new V1ObjectMeta { Name = "qwen-gateway", NamespaceProperty = "default" },
        Spec = new V1LeaseSpec { HolderIdentity = "gateway-a", LeaseDurationSeconds = 15 },
    };

    private static Pool OnPremPool()
    {
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
                        new PoolOptions
                        {
                            Name = "on-prem",
                            Kubernetes = new KubernetesSourceOptions { ServiceName = "qwen", Port = "http", PoolLabel = PoolLabel, PoolLabelValue = "np-onprem" },
                        },
                    ],
                },
            ],
        };
        Assert.Empty(GatewayOptionsValidator.Check(options));
        return new GatewayTopology(options).Find("qwen-chat", "default")!.FindPool("on-prem")!;
    }

    private static Task<string[]> WaitForAsync(Pool pool, string[] expected) =>
        Eventually.WaitAsync(
            () => Task.FromResult(pool.Replicas.Select(r => $"{r.Address} {r.State}").Order(StringComparer.Ordinal).ToArray()),
            seen => seen.SequenceEqual(expected),
            Deadline,
            $"pool {pool.Name} holding [{string.Join(", ", expected)}]");
}

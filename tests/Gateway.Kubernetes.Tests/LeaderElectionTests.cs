using System.Diagnostics;
using Gateway.Configuration;
using Gateway.Hosting;
using Gateway.Scaling;
using Gateway.Testing;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Kubernetes.Tests;

/// <summary>
/// Gateways elect their scaler on a Lease of the fake API server (which refuses a write carrying a stale
/// resourceVersion with 409, as the real one does). Each gateway talks with its own bearer token, so every request
/// the fake records says which gateway made it. Leader election runs on the real clock (KubernetesClient's elector
/// reads it), with leases of 2 s.
/// </summary>
public sealed class LeaderElectionTests : IAsyncLifetime
{
    private const string ScalePath = "/apis/apps/v1/namespaces/default/deployments/qwen-cloud/scale";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private readonly List<k8s.Kubernetes> _clients = [];
    private readonly List<WebApplication> _gateways = [];
    private FakeKubernetesApi _api = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeKubernetesApi.StartAsync();
        _api.AddDeployment("default", "qwen-cloud", replicas: 0);
    }

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.DisposeAsync();
        }

        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await _api.DisposeAsync();
    }

    [Fact]
    public async Task TwoGateways_OneLease_OnlyTheLeaderPatchesAndTheOtherTakesOverWhenItStops()
    {
        var a = await StartGatewayAsync("gateway-a");
        var b = await StartGatewayAsync("gateway-b");

        // The cloud pool's floor is one replica and no pod exists: the leader asks for one (once: the pod it asked for
        // counts until it arrives), the follower never.
        await Eventually.WaitAsync(() => Task.FromResult(ScalePatches().Count), count => count >= 1, Deadline, "scale patches");
        var (leader, follower) = Leadership(a).IsLeader ? (a, b) : (b, a);
        var (leaderName, followerName) = (Identity(leader), Identity(follower));
        for (var sample = 0; sample < 20; sample++)
        {
            Assert.Equal((true, false), (Leadership(leader).IsLeader, Leadership(follower).IsLeader));
            await Task.Delay(50);
        }

        Assert.All(ScalePatches(), patch => Assert.Equal(("Bearer " + leaderName, """{"spec":{"replicas":1}}"""), (patch.Authorization, patch.Body)));
        Assert.Equal(leaderName, (string?)_api.Find("leases", "default", "qwen-gateway")!["spec"]!["holderIdentity"]);
        Assert.Equal((1.0, 0.0), (await LeaderGaugeAsync(leader), await LeaderGaugeAsync(follower)));

        await leader.StopAsync();

        // The old leader's own patches: the other may already have taken over and patched by now.
        var byOldLeader = ScalePatches().Count(p => p.Authorization == "Bearer " + leaderName);

        await Eventually.WaitAsync(
            () => Task.FromResult(ScalePatches().Count(p => p.Authorization == "Bearer " + followerName)), count => count >= 1, Deadline, $"patches by {followerName}");
        Assert.True(Leadership(follower).IsLeader);
        Assert.Equal(byOldLeader, ScalePatches().Count(p => p.Authorization == "Bearer " + leaderName));
        var lease = _api.Find("leases", "default", "qwen-gateway")!["spec"]!;
        Assert.Equal((followerName, 1), ((string?)lease["holderIdentity"], (int)lease["leaseTransitions"]!));

        // The stopping leader gave the Lease up (no holder) rather than leaving the other to wait for it to expire.
        Assert.Contains(
            _api.Requests,
            r => r.Method == "PUT" && r.Authorization == "Bearer " + leaderName && r.Body.Contains("\"holderIdentity\":\"\"", StringComparison.Ordinal));
        Assert.Equal(1.0, await LeaderGaugeAsync(follower));
    }

    [Fact]
    public async Task TwoGateways_LeaderCutOffFromTheApi_StopsLeadingBeforeTheOtherTakesOverAndPatches()
    {
        var partition = new Partition();
        var a = await StartGatewayAsync("gateway-a", partition);
        await Eventually.WaitAsync(() => Task.FromResult(Leadership(a).IsLeader), leading => leading, Deadline, "gateway-a leading");
        var term = Leadership(a).Term;
        Assert.False(term.IsCancellationRequested);
        var b = await StartGatewayAsync("gateway-b");
        await Eventually.WaitAsync(() => Task.FromResult(ScalePatches().Count), count => count >= 1, Deadline, "scale patches");

        // gateway-a can no longer renew; gateway-b must wait for its lease to expire, and a must have stopped by then.
        partition.Cut = true;
        var bothLed = false;
        await Eventually.WaitAsync(
            () =>
            {
                bothLed |= Leadership(a).IsLeader && Leadership(b).IsLeader;
                return Task.FromResult(Leadership(b).IsLeader);
            },
            leading => leading,
            Deadline,
            "gateway-b leading");

        Assert.False(bothLed);
        Assert.False(Leadership(a).IsLeader);

        // A scaling call gateway-a still had under way was cancelled with its term.
        Assert.True(term.IsCancellationRequested);
        Assert.False(Leadership(b).Term.IsCancellationRequested);
        await Eventually.WaitAsync(
            () => Task.FromResult(ScalePatches().Count(p => p.Authorization == "Bearer gateway-b")), count => count >= 1, Deadline, "patches by gateway-b");
        Assert.Equal("gateway-b", (string?)_api.Find("leases", "default", "qwen-gateway")!["spec"]!["holderIdentity"]);
    }

    [Fact]
    public async Task Leader_LeaseOfAGatewayThatVanished_TakenOverOnlyOnceItExpires()
    {
        _api.AddLease("default", "qwen-gateway", "gateway-crashed", durationSeconds: 2, DateTimeOffset.UtcNow);
        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _api.Url });
        var options = Election("gateway-b");
        using var leadership = new KubernetesLeadership(
            client, options, "default", "gateway-b", metrics: null, TimeProvider.System, NullLogger<KubernetesLeadership>.Instance);
        var clock = Stopwatch.StartNew();

        await leadership.StartAsync(CancellationToken.None);
        await Eventually.WaitAsync(() => Task.FromResult(leadership.IsLeader), leading => leading, Deadline, "gateway-b leading");
        await leadership.StopAsync(CancellationToken.None);

        // The crashed gateway's lease lasts 2 s from when gateway-b first saw it: not a moment sooner.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"took over after {clock.Elapsed}");
        var lease = _api.Find("leases", "default", "qwen-gateway")!["spec"]!;
        Assert.Equal(("", 1), ((string?)lease["holderIdentity"], (int)lease["leaseTransitions"]!));
    }

    [Fact]
    public async Task Leader_StaleResourceVersion_IsRefusedWith409AndDoesNotLead()
    {
        // Another gateway holds a fresh lease: a candidate that writes must carry the version it read, and loses.
        _api.AddLease("default", "qwen-gateway", "gateway-a", durationSeconds: 30, DateTimeOffset.UtcNow);
        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _api.Url });
        var stale = await client.CoordinationV1.ReadNamespacedLeaseAsync("qwen-gateway", "default");
        _api.AddLease("default", "qwen-gateway", "gateway-a", durationSeconds: 30, DateTimeOffset.UtcNow);
        stale.Spec.HolderIdentity = "gateway-b";

        var e = await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(
            () => client.CoordinationV1.ReplaceNamespacedLeaseAsync(stale, "qwen-gateway", "default"));

        Assert.Equal(System.Net.HttpStatusCode.Conflict, e.Response.StatusCode);
        Assert.Equal("gateway-a", (string?)_api.Find("leases", "default", "qwen-gateway")!["spec"]!["holderIdentity"]);
    }

    private static LeaderElectionOptions Election(string identity) => new()
    {
        Enabled = true,
        Namespace = "default",
        LeaseName = "qwen-gateway",
        Identity = identity,
        LeaseDurationSeconds = 2,
        RenewDeadlineSeconds = 1,
        RetryPeriodSeconds = 0.2,
    };

    private static IScalingLeadership Leadership(WebApplication gateway) => gateway.Services.GetRequiredService<IScalingLeadership>();

    private static string Identity(WebApplication gateway) => gateway.Services.GetRequiredService<GatewayOptions>().Kubernetes.LeaderElection.Identity;

    private static async Task<double> LeaderGaugeAsync(WebApplication gateway)
    {
        using var http = new HttpClient { BaseAddress = gateway.Services.GetRequiredService<GatewayListeners>().AdminAddress };
        return (await MetricsText.ScrapeAsync(http))[$"gateway_leader{{identity=\"{Identity(gateway)}\"}}"];
    }

    private List<RecordedRequest> ScalePatches() => [.. _api.Writes().Where(w => w.Path == ScalePath)];

    private async Task<WebApplication> StartGatewayAsync(string identity, Partition? partition = null)
    {
        var options = new GatewayOptions
        {
            PublicUrl = "http://127.0.0.1:0",
            AdminUrl = "http://127.0.0.1:0",
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
                            Name = "cloud",
                            CapacityPerReplica = 2,
                            Kubernetes = new KubernetesSourceOptions { ServiceName = "qwen", Port = "http", PoolLabelValue = "np-cloud" },
                            Scaling = new ScalingOptions
                            {
                                MinReplicas = 1,
                                MaxReplicas = 2,
                                ScaleOutWindowSeconds = 0,
                                Kubernetes = new KubernetesScaleTargetOptions { Kind = KubernetesScaleTargetKind.Deployment, Name = "qwen-cloud" },
                            },
                        },
                    ],
                },
            ],
            Kubernetes = new KubernetesClusterOptions { LeaderElection = Election(identity) },
        };
        Assert.Empty(GatewayOptionsValidator.Check(options));

        // Each gateway has its own token, so the fake can tell whose patch it received.
        var configuration = new KubernetesClientConfiguration { Host = _api.Url, AccessToken = identity };
        var client = partition is null ? new k8s.Kubernetes(configuration) : new k8s.Kubernetes(configuration, partition);
        _clients.Add(client);
        var logging = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" }).Build();
        var gateway = GatewayApplication.Build(options, logging, services => services
            .AddSingleton(configuration)
            .AddSingleton<IKubernetes>(client)
            .AddKubernetes(_ => null));
        _gateways.Add(gateway);
        await gateway.StartAsync();
        return gateway;
    }

    /// <summary>A network partition between one gateway and the API server: once cut, its requests fail to connect.</summary>
    private sealed class Partition : DelegatingHandler
    {
        private volatile bool _cut;

        public bool Cut
        {
            get => _cut;
            set => _cut = value;
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            _cut ? throw new HttpRequestException("connection refused (partitioned)") : base.SendAsync(request, cancellationToken);
    }
}

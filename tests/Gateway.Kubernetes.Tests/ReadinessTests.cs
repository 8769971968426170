using System.Net;
using Gateway.Configuration;
using Gateway.Hosting;
using Gateway.Testing;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Kubernetes.Tests.EndpointSlices;

namespace Gateway.Kubernetes.Tests;

/// <summary>
/// A gateway pod must not join its Service before it knows its replicas: <c>/readyz</c> is 503 until every Kubernetes
/// pool has been listed once, while the gateway itself starts at once whatever the API server does.
/// </summary>
public sealed class ReadinessTests : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private FakeKubernetesApi _api = null!;
    private k8s.Kubernetes _client = null!;
    private WebApplication? _gateway;

    public async Task InitializeAsync()
    {
        _api = await FakeKubernetesApi.StartAsync();
        _client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _api.Url });
        _api.AddNode("node-idc-1", "alibabacloud.com/nodepool-id", "np-onprem");
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await _api.DisposeAsync();
    }

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task Readyz_FirstListFails_NotReadyUntilTheRetryListsThePool()
    {
        _api.Apply(Slice("qwen-abc", "qwen", Endpoint("10.0.0.11", "node-idc-1", "qwen-0")));
        _api.FailNextLists(1);
        using var admin = await StartGatewayAsync();

        await Eventually.WaitAsync(() => Task.FromResult(_api.ListCount), count => count == 1, Deadline, "the failed first list");
        using (var notReady = await admin.GetAsync("readyz"))
        {
            Assert.Equal(
                (HttpStatusCode.ServiceUnavailable, "not ready: pool on-prem of service qwen-chat has not listed its replicas yet\n"),
                (notReady.StatusCode, await notReady.Content.ReadAsStringAsync()));
        }

        // The retry (2 s later) lists one ready pod: the gateway is ready, with that pod as its replica.
        await Eventually.WaitAsync(async () => (await admin.GetAsync("readyz")).StatusCode, status => status == HttpStatusCode.OK, Deadline, "/readyz 200");
        Assert.Contains("\"address\": \"http://10.0.0.11:8000\"", await admin.GetStringAsync("admin/status"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readyz_ListedPoolIsEmpty_IsReady()
    {
        // No pod yet: the gateway knows the pool is empty and stays in its Service, where it answers clean 503s.
        using var admin = await StartGatewayAsync();

        await Eventually.WaitAsync(async () => (await admin.GetAsync("readyz")).StatusCode, status => status == HttpStatusCode.OK, Deadline, "/readyz 200");
        Assert.Equal(1, _api.ListCount);
    }

    private async Task<HttpClient> StartGatewayAsync()
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
                            Name = "on-prem",
                            Kubernetes = new KubernetesSourceOptions { ServiceName = "qwen", Port = "http", PoolLabelValue = "np-onprem" },
                        },
                    ],
                },
            ],
        };
        var logging = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" }).Build();
        _gateway = GatewayApplication.Build(options, logging, services => services.AddSingleton<IKubernetes>(_client).AddKubernetes(_ => null));
        await _gateway.StartAsync();
        return new HttpClient { BaseAddress = _gateway.Services.GetRequiredService<GatewayListeners>().AdminAddress };
    }
}

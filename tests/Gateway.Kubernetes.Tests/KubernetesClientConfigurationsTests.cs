using Gateway.Configuration;
using k8s;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Kubernetes.Tests;

/// <summary>
/// Kubeconfig authentication against the fake API server: a kubeconfig on disk names the fake's loopback address and
/// a bearer token, and the one client that discovery, scaling and leader election share must present that token.
/// (In-cluster authentication needs a pod's service account files and KUBERNETES_SERVICE_HOST, which these machines
/// do not have; KubernetesClient's own InClusterConfig reads them.)
/// </summary>
public sealed class KubernetesClientConfigurationsTests : IAsyncLifetime, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-kubeconfig-").FullName;
    private FakeKubernetesApi _api = null!;
    private string _kubeconfig = "";

    public async Task InitializeAsync()
    {
        _api = await FakeKubernetesApi.StartAsync();
        _api.AddNode("node-idc-1", "alibabacloud.com/nodepool-id", "np-onprem");
        _kubeconfig = Path.Combine(_folder, "config");
        await File.WriteAllTextAsync(_kubeconfig, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {_api.Url}
            users:
            - name: gateway
              user:
                token: gateway-token-1
            - name: operator
              user:
                token: operator-token-2
            contexts:
            - name: gateway
              context:
                cluster: fake
                user: gateway
                namespace: inference
            - name: operator
              context:
                cluster: fake
                user: operator
            current-context: gateway
            """);
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Client_KubeconfigFromTheEnvironment_SendsItsBearerTokenAndNamespace()
    {
        var services = Services(new KubernetesClusterOptions(), name => name == "KUBECONFIG" ? _kubeconfig : null);

        await services.GetRequiredService<IKubernetes>().CoreV1.ReadNodeAsync("node-idc-1");

        Assert.Equal("Bearer gateway-token-1", Assert.Single(_api.Requests).Authorization);
        Assert.Equal("inference", services.GetRequiredService<KubernetesClientConfiguration>().Namespace);
    }

    [Fact]
    public async Task Client_KubeconfigAndContextFromConfiguration_UseThatContextsUser()
    {
        var services = Services(new KubernetesClusterOptions { Kubeconfig = _kubeconfig, Context = "operator" }, _ => null);

        await services.GetRequiredService<IKubernetes>().CoreV1.ReadNodeAsync("node-idc-1");

        Assert.Equal("Bearer operator-token-2", Assert.Single(_api.Requests).Authorization);
    }

    [Fact]
    public void LeaseNamespace_NotConfigured_ComesFromThePodThenTheContext()
    {
        var client = KubernetesClientConfigurations.Create(new KubernetesClusterOptions { Kubeconfig = _kubeconfig }, _ => null);
        var election = new LeaderElectionOptions { Enabled = true };

        Assert.Equal("gateways", KubernetesLeadership.NamespaceFor(election, client, name => name == "POD_NAMESPACE" ? "gateways" : null));
        Assert.Equal("inference", KubernetesLeadership.NamespaceFor(election, client, _ => null));
        Assert.Equal("default", KubernetesLeadership.NamespaceFor(election, null, _ => null));
        Assert.Equal("gateway-7d9f-x2x", KubernetesLeadership.IdentityFor(election, name => name == "POD_NAME" ? "gateway-7d9f-x2x" : null));
    }

    private static ServiceProvider Services(KubernetesClusterOptions cluster, Func<string, string?> environment) =>
        new ServiceCollection()
            .AddSingleton(new GatewayOptions { Kubernetes = cluster })
            .AddKubernetes(environment)
            .BuildServiceProvider();
}

using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers;
using Gateway.Scaling;
using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Kubernetes.Tests;

public sealed class KubernetesServiceCollectionExtensionsTests
{
    private static readonly PoolOptions KubernetesPool = new()
    {
        Name = "on-prem",
        Kubernetes = new KubernetesSourceOptions { ServiceName = "qwen", Port = "http", PoolLabelValue = "np-onprem" },
    };

    [Fact]
    public void Create_HostAddedKubernetesSources_MakesAKubernetesSourceForTheKubernetesPool()
    {
        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = "http://127.0.0.1:1" });
        var services = new ServiceCollection()
            .AddSingleton<IKubernetes>(client)
            .AddSingleton(TimeProvider.System)
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .AddSingleton(typeof(ILogger<>), typeof(Logger<>))
            .AddKubernetes()
            .BuildServiceProvider();

        var source = Providers(services).Create(Pool());

        Assert.IsType<KubernetesReplicaProvider>(source);
        Assert.Same(client, services.GetRequiredService<IKubernetes>());
    }

    [Fact]
    public void Leadership_ElectionOff_EveryGatewayScalesAlone()
    {
        using var services = Services(new GatewayOptions());

        Assert.IsType<SoleLeadership>(services.GetRequiredService<IScalingLeadership>());
        Assert.DoesNotContain(services.GetServices<IHostedService>(), s => s is KubernetesLeadership);
    }

    [Fact]
    public void Leadership_ElectionOn_ReplacesTheSoleLeaderAndRunsTheElection()
    {
        var options = new GatewayOptions();
        options.Kubernetes.LeaderElection.Enabled = true;
        options.Kubernetes.LeaderElection.Identity = "gateway-a";
        using var services = Services(options);

        var leadership = Assert.IsType<KubernetesLeadership>(services.GetRequiredService<IScalingLeadership>());
        Assert.Contains(services.GetServices<IHostedService>(), s => ReferenceEquals(s, leadership));
        Assert.Equal(("gateway-a", "default"), (leadership.Identity, leadership.Namespace));
        Assert.False(leadership.IsLeader);
    }

    [Fact]
    public void Create_HostWithoutKubernetesSources_SaysWhatTheHostMissed()
    {
        var services = new ServiceCollection().BuildServiceProvider();

        var e = Assert.Throws<InvalidOperationException>(() => Providers(services).Create(Pool()));

        Assert.Equal(
            "Pool 'on-prem' of service 'qwen-chat' takes its replicas from Kubernetes, but the host did not add Kubernetes (AddKubernetes)",
            e.Message);
    }

    /// <summary>The core's sole leader first (as AddScaling registers it), then the host's Kubernetes, as in GatewayApplication.</summary>
    private static ServiceProvider Services(GatewayOptions options) =>
        new ServiceCollection()
            .AddSingleton(options)
            .AddSingleton(TimeProvider.System)
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .AddSingleton(typeof(ILogger<>), typeof(Logger<>))
            .AddSingleton(new KubernetesClientConfiguration { Host = "http://127.0.0.1:1" })
            .AddSingleton<IScalingLeadership, SoleLeadership>()
            .AddKubernetes(_ => null)
            .BuildServiceProvider();

    /// <summary>The gateway's providers with the factories <paramref name="services"/> registered.</summary>
    private static ReplicaProviders Providers(IServiceProvider services) =>
        new(new GatewayTopology(new GatewayOptions()), services.GetServices<IReplicaProviderFactory>());

    private static Pool Pool()
    {
        var options = new GatewayOptions
        {
            Services = [new ServiceOptions { Name = "qwen-chat", Models = ["qwen"], Pools = [KubernetesPool] }],
        };
        return new GatewayTopology(options).Find("qwen-chat", "default")!.FindPool("on-prem")!;
    }
}

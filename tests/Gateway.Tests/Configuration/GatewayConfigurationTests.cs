using Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class GatewayConfigurationTests
{
    private static readonly Dictionary<string, string?> Minimal = new()
    {
        ["Gateway:Services:0:Name"] = "qwen-chat",
        ["Gateway:Services:0:Models:0"] = "qwen2.5-7b",
        ["Gateway:Services:0:Pools:0:Name"] = "on-prem",
        ["Gateway:Services:0:Pools:0:Static:0"] = "http://10.0.0.1:8000",
    };

    private static IConfiguration Configuration(params (string Key, string Value)[] overrides)
    {
        var values = new Dictionary<string, string?>(Minimal);
        foreach (var (key, value) in overrides)
        {
            values[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    [Fact]
    public void Load_MinimalConfiguration_BindsValuesAndDefaults()
    {
        var options = GatewayConfiguration.Load(Configuration(
            ("Gateway:Services:0:Balancing", "RoundRobin"),
            ("Gateway:Services:0:Pools:0:CapacityPerReplica", "8")));

        var service = Assert.Single(options.Services);
        Assert.Equal("qwen-chat", service.Name);
        Assert.Equal("default", service.Namespace);
        Assert.Equal(["qwen2.5-7b"], service.Models);
        Assert.Equal(BalancingMode.RoundRobin, service.Balancing);
        var pool = Assert.Single(service.Pools);
        Assert.Equal(8, pool.CapacityPerReplica);
        Assert.Equal(["http://10.0.0.1:8000"], pool.Static);
        Assert.Equal("http://127.0.0.1:8080", options.PublicUrl);
        Assert.Equal(100, service.Queue.MaxWaiting);
    }

    [Fact]
    public void Load_ClassesByName_BindsEachClassesSettings()
    {
        var options = GatewayConfiguration.Load(Configuration(("Gateway:Classes:Sheddable:ScalesCloud", "false"), ("Gateway:Classes:critical:ScalesCloud", "true")));

        Assert.Equal(
            [(PriorityClass.Critical, true), (PriorityClass.Sheddable, false)],
            options.Classes.OrderBy(c => c.Key).Select(c => (c.Key, c.Value.ScalesCloud)));
    }

    [Fact]
    public void Load_UnknownClassOrSettingUnderClasses_NamesIt()
    {
        var e = Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(Configuration(
            ("Gateway:Classes:Batch:ScalesCloud", "false"), ("Gateway:Classes:Standard:ScalesClouds", "false"), ("Gateway:Classes:Critical:ScalesCloud", "no"))));

        Assert.Equal(
            [
                "Gateway:Classes:Batch: 'Batch' is not one of Critical, Standard, Sheddable",
                "Gateway:Classes:Critical:ScalesCloud: 'no' is not a valid true/false value",
                "Gateway:Classes:Standard:ScalesClouds: unknown setting (known here: ScalesCloud, MaxSlotShare)",
            ],
            e.Errors);
    }

    [Fact]
    public void Load_UnknownKeyUnderScalingWebhook_NamesItAndTheKnownOnes()
    {
        var error = Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(Configuration(
            ("Gateway:Services:0:Pools:0:Scaling:Webhook:Url", "http://127.0.0.1:9000/scale"),
            ("Gateway:Services:0:Pools:0:Scaling:Webhook:Retries", "2"))));

        Assert.Equal(
            ["Gateway:Services:0:Pools:0:Scaling:Webhook:Retries: unknown setting (known here: Url, TimeoutSeconds, MaxRetries, BreakSeconds)"],
            error.Errors);
    }

    [Fact]
    public void Load_PoolWithScaling_BindsItAndItsDefaults_PoolWithoutStaysFixed()
    {
        var options = GatewayConfiguration.Load(Configuration(
            ("Gateway:Services:0:TargetUtilization", "0.7"),
            ("Gateway:Services:0:Pools:0:Static:1", "http://10.0.0.2:8000"),
            ("Gateway:Services:0:Pools:0:Static:2", "http://10.0.0.3:8000"),
            ("Gateway:Services:0:Pools:0:Scaling:MaxReplicas", "3"),
            ("Gateway:Services:0:Pools:0:Scaling:Webhook:Url", "http://127.0.0.1:9000/scale")));

        var service = Assert.Single(options.Services);
        Assert.Equal(0.7, service.TargetUtilization);
        var scaling = Assert.Single(service.Pools).Scaling;
        Assert.NotNull(scaling);
        Assert.Equal((0, 3, 2.0, 120.0, 30.0, 600.0),
            (scaling.MinReplicas, scaling.MaxReplicas, scaling.ScaleOutWindowSeconds, scaling.ScaleInStabilizationSeconds, scaling.DrainTimeoutSeconds,
                scaling.ProvisioningTimeoutSeconds));
        Assert.NotNull(scaling.Webhook);
        Assert.Equal(("http://127.0.0.1:9000/scale", 10.0, 3, 30.0),
            (scaling.Webhook.Url, scaling.Webhook.TimeoutSeconds, scaling.Webhook.MaxRetries, scaling.Webhook.BreakSeconds));
        Assert.Null(Assert.Single(GatewayConfiguration.Load(Configuration()).Services[0].Pools).Scaling);
        Assert.Equal(0.8, GatewayConfiguration.Load(Configuration()).Services[0].TargetUtilization);
    }

    [Fact]
    public void Load_PoolWithKubernetesSource_BindsItAndItsDefaults()
    {
        var values = new Dictionary<string, string?>(Minimal)
        {
            ["Gateway:Services:0:Pools:0:Kubernetes:ServiceName"] = "qwen",
            ["Gateway:Services:0:Pools:0:Kubernetes:Port"] = "http",
            ["Gateway:Services:0:Pools:0:Kubernetes:PoolLabelValue"] = "np-onprem",
            ["Gateway:Services:0:Pools:0:Kubernetes:LabelOn"] = "Pod",
        };
        values.Remove("Gateway:Services:0:Pools:0:Static:0");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();

        var pool = Assert.Single(GatewayConfiguration.Load(configuration).Services[0].Pools);

        Assert.Empty(pool.Static);
        var kubernetes = Assert.IsType<KubernetesSourceOptions>(pool.Kubernetes);
        Assert.Equal(
            ("default", "qwen", "http", "alibabacloud.com/nodepool-id", "np-onprem", KubernetesLabelTarget.Pod, 300.0),
            (kubernetes.Namespace, kubernetes.ServiceName, kubernetes.Port, kubernetes.PoolLabel, kubernetes.PoolLabelValue, kubernetes.LabelOn, kubernetes.ResyncSeconds));
    }

    [Fact]
    public void Load_MisspeltNestedKey_ThrowsNamingItsPath()
    {
        var configuration = Configuration(("Gateway:Services:0:Pools:0:CapacityPerReplicas", "4"));

        var e = Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(configuration));

        Assert.Equal(
            ["Gateway:Services:0:Pools:0:CapacityPerReplicas: unknown setting (known here: Name, Priority, Location, BackendKeyEnv, BackendKeyFile, CapacityPerReplica, Static, Process, Kubernetes, Load, Health, Scaling, Provider, Role, Bridge, Cost)"],
            e.Errors);
    }

    [Fact]
    public void Load_MisspeltTopLevelKey_ThrowsNamingItsPath()
    {
        var configuration = Configuration(("Gateway:PublicUlr", "http://127.0.0.1:8081"));

        var e = Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(configuration));

        Assert.StartsWith("Gateway:PublicUlr: unknown setting (known here: PublicUrl, AdminUrl, ", Assert.Single(e.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NonNumericCapacity_ThrowsNamingTheKey()
    {
        var configuration = Configuration(("Gateway:Services:0:Pools:0:CapacityPerReplica", "four"));

        var e = Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(configuration));

        // Checked before binding: the binder would silently drop the whole pool.
        Assert.Equal(["Gateway:Services:0:Pools:0:CapacityPerReplica: 'four' is not a valid whole number"], e.Errors);
    }

    [Fact]
    public void Load_BadValueInSecondPool_RefusesInsteadOfDroppingThePool()
    {
        var configuration = Configuration(
            ("Gateway:Services:0:Pools:1:Name", "cloud-elastic"),
            ("Gateway:Services:0:Pools:1:Priority", "1"),
            ("Gateway:Services:0:Pools:1:Static:0", "http://10.0.0.2:8000"),
            ("Gateway:Services:0:Pools:0:Priority", "zero"));

        var e = Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(configuration));

        Assert.Equal(["Gateway:Services:0:Pools:0:Priority: 'zero' is not a valid whole number"], e.Errors);
    }

    [Fact]
    public void Load_UnknownBalancingMode_ThrowsNamingTheKey()
    {
        var configuration = Configuration(("Gateway:Services:0:Balancing", "Random"));

        var e = Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(configuration));

        Assert.Equal(["Gateway:Services:0:Balancing: 'Random' is not one of SpillOver, RoundRobin"], e.Errors);
    }

    [Fact]
    public void Load_BoundButInvalidValue_ThrowsTheValidatorsMessage()
    {
        var configuration = Configuration(("Gateway:Services:0:Pools:0:CapacityPerReplica", "0"));

        var e = Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(configuration));

        Assert.Equal(["Gateway:Services:0:Pools:0:CapacityPerReplica: must be at least 1, got 0"], e.Errors);
    }

    [Fact]
    public void Load_NoGatewaySection_ThrowsThatAServiceIsNeeded()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Other:Key"] = "1" }).Build();

        var e = Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(configuration));

        Assert.Equal(["Gateway:Services: at least one service is needed"], e.Errors);
    }
}

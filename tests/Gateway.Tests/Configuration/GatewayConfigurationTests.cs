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
    public void Load_MisspeltNestedKey_ThrowsNamingThePropertyAndItsType()
    {
        var configuration = Configuration(("Gateway:Services:0:Pools:0:CapacityPerReplicas", "4"));

        var e = Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(configuration));

        // The binder names the property and its type, not the index path.
        Assert.Equal(
            ["'ErrorOnUnknownConfiguration' was set on the provided BinderOptions, but the following properties were not found on the instance of Gateway.Configuration.PoolOptions: 'CapacityPerReplicas'"],
            e.Errors);
    }

    [Fact]
    public void Load_MisspeltTopLevelKey_ThrowsNamingTheProperty()
    {
        var configuration = Configuration(("Gateway:PublicUlr", "http://127.0.0.1:8081"));

        var e = Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(configuration));

        Assert.Equal(
            ["'ErrorOnUnknownConfiguration' was set on the provided BinderOptions, but the following properties were not found on the instance of Gateway.Configuration.GatewayOptions: 'PublicUlr'"],
            e.Errors);
    }

    [Fact]
    public void Load_NonNumericCapacity_ThrowsNamingTheKey()
    {
        var configuration = Configuration(("Gateway:Services:0:Pools:0:CapacityPerReplica", "four"));

        var e = Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(configuration));

        Assert.Equal(["Failed to convert configuration value 'four' at 'Gateway:Services:0:Pools:0:CapacityPerReplica' to type 'System.Int32'."], e.Errors);
    }

    [Fact]
    public void Load_UnknownBalancingMode_ThrowsNamingTheKey()
    {
        var configuration = Configuration(("Gateway:Services:0:Balancing", "Random"));

        var e = Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(configuration));

        Assert.Equal(["Failed to convert configuration value 'Random' at 'Gateway:Services:0:Balancing' to type 'Gateway.Configuration.BalancingMode'."], e.Errors);
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

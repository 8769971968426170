using Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class LoadOptionsValidatorTests
{
    /// <summary>A valid configuration: one service with an on-prem and a cloud pool.</summary>
    private static GatewayOptions Valid() => TestTopology.Options(TestTopology.Service(
        TestTopology.Pool("on-prem", 0, 4, "http://10.0.0.1:8000"),
        TestTopology.Pool("cloud", 1, 4, "http://10.0.1.1:8000")));

    private static LoadOptions CloudLoad(GatewayOptions options) => options.Services[0].Pools[1].Load;

    private static void AssertOnlyError(GatewayOptions options, string expected) =>
        Assert.Equal([expected], GatewayOptionsValidator.Check(options));

    [Fact]
    public void Defaults_ScrapeEverySecondStaleAfterThreeFallBackToLocalCounts()
    {
        var load = new LoadOptions();

        Assert.Equal((true, 1.0, 3, StaleLoadPolicy.LocalCounts, 0.95), (load.Enabled, load.ScrapeIntervalSeconds, load.StaleAfterIntervals, load.WhenStale, load.KvCacheSaturation));
        Assert.Empty(GatewayOptionsValidator.Check(Valid()));
    }

    [Theory]
    [InlineData(0, "Gateway:Services:0:Pools:1:Load:ScrapeIntervalSeconds: must be a positive number of seconds, got 0")]
    [InlineData(-1, "Gateway:Services:0:Pools:1:Load:ScrapeIntervalSeconds: must be a positive number of seconds, got -1")]
    [InlineData(double.NaN, "Gateway:Services:0:Pools:1:Load:ScrapeIntervalSeconds: must be a positive number of seconds, got NaN")]
    [InlineData(double.PositiveInfinity, "Gateway:Services:0:Pools:1:Load:ScrapeIntervalSeconds: must be a positive number of seconds, got Infinity")]
    [InlineData(3601, "Gateway:Services:0:Pools:1:Load:ScrapeIntervalSeconds: must be at most 3600 (an hour), got 3601")]
    public void Check_BadScrapeInterval_NamesItsKeyPath(double seconds, string expected)
    {
        var options = Valid();
        CloudLoad(options).ScrapeIntervalSeconds = seconds;

        AssertOnlyError(options, expected);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public void Check_StaleAfterIntervalsOutOfRange_NamesItsKeyPath(int intervals)
    {
        var options = Valid();
        CloudLoad(options).StaleAfterIntervals = intervals;

        AssertOnlyError(options, $"Gateway:Services:0:Pools:1:Load:StaleAfterIntervals: must be between 1 and 100, got {intervals}");
    }

    [Fact]
    public void Check_UndefinedStalePolicy_NamesItsKeyPath()
    {
        var options = Valid();
        options.Services[0].Pools[0].Load.WhenStale = (StaleLoadPolicy)7;

        AssertOnlyError(options, "Gateway:Services:0:Pools:0:Load:WhenStale: must be LocalCounts or Saturated");
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(1.01, "1.01")]
    [InlineData(double.NaN, "NaN")]
    public void Check_KvCacheSaturationNotAShare_NamesItsKeyPath(double share, string shown)
    {
        var options = Valid();
        CloudLoad(options).KvCacheSaturation = share;

        AssertOnlyError(options, $"Gateway:Services:0:Pools:1:Load:KvCacheSaturation: must be a share of the KV cache above 0 and at most 1, got {shown}");
    }

    [Fact]
    public void Check_KvCacheSaturationOfOne_IsAllowed()
    {
        var options = Valid();
        CloudLoad(options).KvCacheSaturation = 1;

        Assert.Empty(GatewayOptionsValidator.Check(options));
    }

    [Fact]
    public void Load_LoadSection_BindsEverySetting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Services:0:Name"] = "qwen-chat",
            ["Gateway:Services:0:Pools:0:Name"] = "cloud",
            ["Gateway:Services:0:Pools:0:Static:0"] = "http://10.0.1.1:8000",
            ["Gateway:Services:0:Pools:0:Load:Enabled"] = "false",
            ["Gateway:Services:0:Pools:0:Load:ScrapeIntervalSeconds"] = "2.5",
            ["Gateway:Services:0:Pools:0:Load:StaleAfterIntervals"] = "5",
            ["Gateway:Services:0:Pools:0:Load:WhenStale"] = "Saturated",
            ["Gateway:Services:0:Pools:0:Load:KvCacheSaturation"] = "0.9",
        }).Build();

        var load = GatewayConfiguration.Load(configuration).Services[0].Pools[0].Load;

        Assert.Equal((false, 2.5, 5, StaleLoadPolicy.Saturated, 0.9), (load.Enabled, load.ScrapeIntervalSeconds, load.StaleAfterIntervals, load.WhenStale, load.KvCacheSaturation));
    }

    [Fact]
    public void Load_UnknownStalePolicy_NamesTheKeyAndTheChoices()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Services:0:Name"] = "qwen-chat",
            ["Gateway:Services:0:Pools:0:Name"] = "cloud",
            ["Gateway:Services:0:Pools:0:Static:0"] = "http://10.0.1.1:8000",
            ["Gateway:Services:0:Pools:0:Load:WhenStale"] = "Full",
        }).Build();

        var e = Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(configuration));

        Assert.Equal(["Gateway:Services:0:Pools:0:Load:WhenStale: 'Full' is not one of LocalCounts, Saturated"], e.Errors);
    }
}

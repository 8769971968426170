using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class ListenerLimitsOptionsValidatorTests
{
    private static List<string> Check(ListenerLimitsOptions limits)
    {
        var errors = new List<string>();
        ListenerLimitsOptionsValidator.Check(errors, limits, "Gateway:Limits");
        return errors;
    }

    [Fact]
    public void Defaults_AreSafeAndValid()
    {
        var limits = new ListenerLimitsOptions();

        Assert.Equal((10_000L, 30.0, 240.0, 5.0), (limits.MaxConnections, limits.RequestHeadersTimeoutSeconds, limits.MinRequestBodyBytesPerSecond, limits.MinRequestBodyGraceSeconds));
        Assert.Empty(Check(limits));
    }

    [Fact]
    public void Check_NoConnections_NamesMaxConnections()
    {
        Assert.Equal(["Gateway:Limits:MaxConnections: must be at least 1, got 0"], Check(new ListenerLimitsOptions { MaxConnections = 0 }));
    }

    [Fact]
    public void Check_ZeroHeadersTimeout_NamesIt()
    {
        Assert.Equal(
            ["Gateway:Limits:RequestHeadersTimeoutSeconds: must be a positive number of seconds, got 0"],
            Check(new ListenerLimitsOptions { RequestHeadersTimeoutSeconds = 0 }));
    }

    [Fact]
    public void Check_HeadersTimeoutOverAnHour_NamesIt()
    {
        Assert.Equal(
            ["Gateway:Limits:RequestHeadersTimeoutSeconds: must be at most 3600 (an hour), got 3601"],
            Check(new ListenerLimitsOptions { RequestHeadersTimeoutSeconds = 3601 }));
    }

    [Fact]
    public void Check_NegativeBodyRate_NamesIt()
    {
        Assert.Equal(
            ["Gateway:Limits:MinRequestBodyBytesPerSecond: must be 0 (no minimum) or more, got -1"],
            Check(new ListenerLimitsOptions { MinRequestBodyBytesPerSecond = -1 }));
    }

    [Fact]
    public void Check_ZeroBodyRate_TurnsTheCheckOffWithoutError()
    {
        Assert.Empty(Check(new ListenerLimitsOptions { MinRequestBodyBytesPerSecond = 0 }));
    }

    [Fact]
    public void Check_GraceOfOneSecond_NamesItBecauseKestrelRefusesIt()
    {
        Assert.Equal(
            ["Gateway:Limits:MinRequestBodyGraceSeconds: must be more than 1 and at most 3600, got 1"],
            Check(new ListenerLimitsOptions { MinRequestBodyGraceSeconds = 1 }));
    }

    [Fact]
    public void GatewayCheck_ComposesTheLimitsValidator()
    {
        var options = new GatewayOptions
        {
            Limits = new ListenerLimitsOptions { MaxConnections = -5 },
            Services = [new ServiceOptions { Name = "qwen-chat", Models = ["qwen"], Pools = [new PoolOptions { Name = "on-prem", Static = ["http://10.0.0.1:8000"] }] }],
        };

        Assert.Equal(["Gateway:Limits:MaxConnections: must be at least 1, got -5"], GatewayOptionsValidator.Check(options));
    }
}

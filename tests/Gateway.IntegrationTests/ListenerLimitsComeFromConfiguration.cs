using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.IntegrationTests;

/// <summary>The <c>Gateway:Limits</c> keys reach Kestrel: connections, header timeout and minimum body rate.</summary>
public sealed class ListenerLimitsComeFromConfiguration
{
    [Fact]
    public async Task ConfiguredLimits_AreKestrels()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            [],
            _ => new()
            {
                Limits = new ListenerLimitsOptions { MaxConnections = 123, RequestHeadersTimeoutSeconds = 7, MinRequestBodyBytesPerSecond = 500, MinRequestBodyGraceSeconds = 3 },
                Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, ClosedPort.Address()))],
            });

        var limits = gateway.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Equal(123, limits.MaxConcurrentConnections);
        Assert.Equal(TimeSpan.FromSeconds(7), limits.RequestHeadersTimeout);
        Assert.Equal((500.0, TimeSpan.FromSeconds(3)), (limits.MinRequestBodyDataRate!.BytesPerSecond, limits.MinRequestBodyDataRate.GracePeriod));
    }

    [Fact]
    public async Task ZeroBodyRate_TurnsTheMinimumOff()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            [],
            _ => new()
            {
                Limits = new ListenerLimitsOptions { MinRequestBodyBytesPerSecond = 0 },
                Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, ClosedPort.Address()))],
            });

        var limits = gateway.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Null(limits.MinRequestBodyDataRate);
        Assert.Equal((10_000L, TimeSpan.FromSeconds(30)), (limits.MaxConcurrentConnections, limits.RequestHeadersTimeout));
    }
}

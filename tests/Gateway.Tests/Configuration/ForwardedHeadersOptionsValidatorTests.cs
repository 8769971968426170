using Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class ForwardedHeadersOptionsValidatorTests
{
    private static GatewayOptions Valid() => TestTopology.Options(TestTopology.Service(
        TestTopology.Pool("on-prem", 0, 4, "http://10.0.0.1:8000")));

    [Fact]
    public void Defaults_TrustNobodyAndSendTheReplicasOwnHost()
    {
        var options = new GatewayOptions();

        Assert.Empty(options.ForwardedHeaders.KnownNetworks);
        Assert.False(options.Forwarding.KeepClientHost);
        Assert.Empty(GatewayOptionsValidator.Check(Valid()));
    }

    [Fact]
    public void Check_CidrNetworksOfBothFamilies_AreAccepted()
    {
        var options = Valid();
        options.ForwardedHeaders.KnownNetworks = ["10.0.0.0/8", "192.168.1.7/32", "::1/128", "fd00::/8"];

        Assert.Empty(GatewayOptionsValidator.Check(options));
    }

    [Theory]
    [InlineData("10.0.0.0")]
    [InlineData("10.0.0.0/33")]
    [InlineData("proxy.internal/24")]
    [InlineData("")]
    public void Check_NotACidrNetwork_NamesItsKeyPath(string network)
    {
        var options = Valid();
        options.ForwardedHeaders.KnownNetworks = ["10.0.0.0/8", network];

        Assert.Equal(
            [$"Gateway:ForwardedHeaders:KnownNetworks:1: must be a network in CIDR notation such as 10.0.0.0/8 or ::1/128, got '{network}'"],
            GatewayOptionsValidator.Check(options));
    }

    [Fact]
    public void Bind_FromConfiguration_ReadsBothKeys()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:ForwardedHeaders:KnownNetworks:0"] = "10.1.0.0/16",
            ["Gateway:Forwarding:KeepClientHost"] = "true",
        }).Build();
        var options = new GatewayOptions();

        configuration.GetSection(GatewayOptions.SectionName).Bind(options);

        Assert.Equal(["10.1.0.0/16"], options.ForwardedHeaders.KnownNetworks);
        Assert.True(options.Forwarding.KeepClientHost);
    }
}

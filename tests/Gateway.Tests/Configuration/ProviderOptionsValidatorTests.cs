using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class ProviderOptionsValidatorTests
{
    /// <summary>A service with an on-prem pool and a bridge at <paramref name="baseUrl"/> whose API a stand-in serves.</summary>
    private static GatewayOptions WithStandInAt(string baseUrl) =>
        TestTopology.Options(TestTopology.Service(
            TestTopology.Pool("on-prem", 0, 2, "http://10.0.0.1:8000"),
            new PoolOptions
            {
                Name = "bridge",
                Priority = 1,
                Role = PoolRole.Bridge,
                Provider = new ProviderSourceOptions
                {
                    BaseUrl = baseUrl,
                    StandIn = new StandInOptions { Command = "dotnet", Arguments = ["{appdir}/Gateway.Simulator.dll", "--port", "{port}"] },
                },
            }));

    [Fact]
    public void Check_StandInOnALoopbackPortOfItsOwn_GivesNoErrors() =>
        Assert.Empty(GatewayOptionsValidator.Check(WithStandInAt("https://127.0.0.1:8443/v1")));

    [Theory]
    [InlineData("https://127.0.0.1/v1")]
    [InlineData("https://127.0.0.1:443/v1")]
    public void Check_StandInWithoutAPort_NamesBaseUrl(string baseUrl) =>
        Assert.Equal(
            ["Gateway:Services:0:Pools:1:Provider:BaseUrl: a stand-in listens on BaseUrl's port; give one other than 443, e.g. 'https://127.0.0.1:8443/v1'"],
            GatewayOptionsValidator.Check(WithStandInAt(baseUrl)));
}

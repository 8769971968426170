using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class AdminOptionsValidatorTests
{
    private static GatewayOptions Options(string adminUrl, AdminOptions admin) => new()
    {
        AdminUrl = adminUrl,
        Admin = admin,
        Services =
        [
            new ServiceOptions { Name = "qwen-chat", Models = ["qwen"], Pools = [new PoolOptions { Name = "on-prem", Static = ["http://10.0.0.1:8000"] }] },
        ],
    };

    [Fact]
    public void Check_AnyAddressWithoutTokenSource_NamesTokenFileAndTheAddress()
    {
        Assert.Equal(
            ["Gateway:Admin:TokenFile: the admin listener binds 0.0.0.0 (Gateway:AdminUrl), so it needs a token: give TokenFile or TokenEnv, or set Gateway:Admin:AllowAnonymous"],
            GatewayOptionsValidator.Check(Options("http://0.0.0.0:9090", new AdminOptions())));
    }

    [Fact]
    public void Check_PodAddressWithoutTokenSource_NamesTheAddress()
    {
        Assert.Equal(
            ["Gateway:Admin:TokenFile: the admin listener binds 10.1.2.3 (Gateway:AdminUrl), so it needs a token: give TokenFile or TokenEnv, or set Gateway:Admin:AllowAnonymous"],
            GatewayOptionsValidator.Check(Options("http://10.1.2.3:9090", new AdminOptions())));
    }

    [Theory]
    [InlineData("http://0.0.0.0:9090")]
    [InlineData("http://[::]:9090")]
    public void Check_AnyAddressWithAllowAnonymous_GivesNoErrors(string adminUrl)
    {
        Assert.Empty(GatewayOptionsValidator.Check(Options(adminUrl, new AdminOptions { AllowAnonymous = true })));
    }

    [Fact]
    public void Check_AnyAddressWithTokenFile_GivesNoErrors()
    {
        Assert.Empty(GatewayOptionsValidator.Check(Options("http://0.0.0.0:9090", new AdminOptions { TokenFile = "/etc/gateway-admin/token" })));
    }

    [Fact]
    public void Check_AnyAddressWithTokenEnv_GivesNoErrors()
    {
        Assert.Empty(GatewayOptionsValidator.Check(Options("http://0.0.0.0:9090", new AdminOptions { TokenEnv = "GATEWAY_ADMIN_TOKEN" })));
    }

    [Theory]
    [InlineData("http://127.0.0.1:9090")]
    [InlineData("http://127.0.0.2:9090")]
    [InlineData("http://localhost:9090")]
    [InlineData("http://[::1]:9090")]
    public void Check_LoopbackWithoutToken_GivesNoErrors(string adminUrl)
    {
        Assert.Empty(GatewayOptionsValidator.Check(Options(adminUrl, new AdminOptions())));
    }

    [Fact]
    public void Check_BothSources_NamesTokenEnv()
    {
        Assert.Equal(
            ["Gateway:Admin:TokenEnv: give TokenFile or TokenEnv, not both"],
            GatewayOptionsValidator.Check(Options("http://0.0.0.0:9090", new AdminOptions { TokenFile = "/t", TokenEnv = "T" })));
    }

    [Fact]
    public void Check_TokenEnvWithEquals_NamesTokenEnv()
    {
        Assert.Equal(
            ["Gateway:Admin:TokenEnv: must be the name of an environment variable, got 'TOKEN=abc'"],
            GatewayOptionsValidator.Check(Options("http://127.0.0.1:9090", new AdminOptions { TokenEnv = "TOKEN=abc" })));
    }

    [Fact]
    public void Check_BlankTokenFile_NamesTokenFile()
    {
        Assert.Equal(
            ["Gateway:Admin:TokenFile: must be a file path, got ' '"],
            GatewayOptionsValidator.Check(Options("http://127.0.0.1:9090", new AdminOptions { TokenFile = " " })));
    }
}

using Gateway.Admin;
using Gateway.Configuration;

namespace Gateway.Tests.Admin;

public sealed class AdminTokenTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("admin-token-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Read_NoSource_GivesNoToken()
    {
        Assert.Null(AdminToken.Read(new AdminOptions(), "Gateway:Admin"));
    }

    [Fact]
    public void Read_FileWithTrailingNewline_AcceptsTheTrimmedToken()
    {
        var file = Path.Combine(_folder, "token");
        File.WriteAllText(file, "s3cret\n");

        var token = AdminToken.Read(new AdminOptions { TokenFile = file }, "Gateway:Admin")!;

        Assert.True(token.Accepts("Bearer s3cret"));
        Assert.True(token.Accepts("bearer s3cret"));
        Assert.False(token.Accepts("Bearer s3cre"));
        Assert.False(token.Accepts("Bearer s3cret2"));
        Assert.False(token.Accepts("Basic s3cret"));
        Assert.False(token.Accepts("s3cret"));
        Assert.False(token.Accepts(default));
        Assert.False(token.Accepts(new Microsoft.Extensions.Primitives.StringValues(["Bearer s3cret", "Bearer s3cret"])));
    }

    [Fact]
    public void Read_MissingFile_NamesTokenFile()
    {
        var file = Path.Combine(_folder, "missing");

        var e = Assert.Throws<GatewayConfigurationException>(() => AdminToken.Read(new AdminOptions { TokenFile = file }, "Gateway:Admin"));

        Assert.StartsWith($"Gateway:Admin:TokenFile: cannot read the admin token from '{file}': ", Assert.Single(e.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_EmptyFile_NamesTokenFile()
    {
        var file = Path.Combine(_folder, "token");
        File.WriteAllText(file, " \n");

        var e = Assert.Throws<GatewayConfigurationException>(() => AdminToken.Read(new AdminOptions { TokenFile = file }, "Gateway:Admin"));

        Assert.Equal([$"Gateway:Admin:TokenFile: the admin token file '{file}' is empty"], e.Errors);
    }

    [Fact]
    public void Read_UnsetVariable_NamesTokenEnv()
    {
        var e = Assert.Throws<GatewayConfigurationException>(() => AdminToken.Read(new AdminOptions { TokenEnv = "ADMIN_TOKEN" }, "Gateway:Admin", _ => null));

        Assert.Equal(["Gateway:Admin:TokenEnv: the environment variable 'ADMIN_TOKEN' that should hold the admin token is not set or empty"], e.Errors);
    }

    [Fact]
    public void Read_Variable_AcceptsItsValue()
    {
        var token = AdminToken.Read(new AdminOptions { TokenEnv = "ADMIN_TOKEN" }, "Gateway:Admin", name => name == "ADMIN_TOKEN" ? "from-env" : null)!;

        Assert.True(token.Accepts("Bearer from-env"));
        Assert.False(token.Accepts("Bearer ADMIN_TOKEN"));
    }

    [Theory]
    [InlineData("/healthz", false, true)]
    [InlineData("/readyz", false, true)]
    [InlineData("/metrics", false, true)]
    [InlineData("/metrics", true, false)]
    [InlineData("/admin/status", false, false)]
    [InlineData("/dashboard", false, false)]
    [InlineData("/anything-else", false, false)]
    public void IsOpen_OnlyProbesAndUnprotectedMetrics(string path, bool protectMetrics, bool open)
    {
        Assert.Equal(open, AdminEndpoints.IsOpen(path, protectMetrics));
    }
}

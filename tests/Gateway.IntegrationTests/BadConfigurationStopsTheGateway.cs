using Gateway.Testing;
using Xunit.Abstractions;

namespace Gateway.IntegrationTests;

/// <summary>
/// The gateway host refuses to start on a bad configuration: exit code 2 and a message naming the key path
/// and what is wrong, so an operator can fix the file or the environment variable that set it.
/// </summary>
public sealed class BadConfigurationStopsTheGateway(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-config-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("\"CapacityPerReplica\": 0", "Gateway:Services:0:Pools:0:CapacityPerReplica: must be at least 1, got 0")]
    [InlineData("\"CapacityPerReplica\": \"four\"", "Gateway:Services:0:Pools:0:CapacityPerReplica: 'four' is not a valid whole number")]
    [InlineData("\"CapacityPerReplika\": 4", "Gateway:Services:0:Pools:0:CapacityPerReplika: unknown setting")]
    [InlineData("\"Priority\": -1", "Gateway:Services:0:Pools:0:Priority: must be 0 or more, got -1")]
    public async Task InvalidPoolSetting_ExitsWith2NamingTheKey(string setting, string expected)
    {
        var path = Write($$"""
            {
              "Gateway": {
                "PublicUrl": "http://127.0.0.1:0",
                "AdminUrl": "http://127.0.0.1:0",
                "Services": [
                  {
                    "Name": "qwen-chat",
                    "Models": [ "qwen" ],
                    "Pools": [ { "Name": "on-prem", "Static": [ "http://127.0.0.1:8000" ], {{setting}} } ]
                  }
                ]
              }
            }
            """);

        var (exitCode, error) = await RunGatewayAsync("--config", path);

        Assert.Equal(2, exitCode);
        Assert.Contains("invalid configuration", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminOnEveryAddressWithoutToken_ExitsWith2NamingTokenFile()
    {
        var path = Write(Configuration("\"AdminUrl\": \"http://0.0.0.0:0\""));

        var (exitCode, error) = await RunGatewayAsync("--config", path);
        output.WriteLine($"exit code {exitCode}, standard error:\n{error}");

        Assert.Equal(2, exitCode);
        Assert.Contains(
            "  Gateway:Admin:TokenFile: the admin listener binds 0.0.0.0 (Gateway:AdminUrl), so it needs a token: give TokenFile or TokenEnv, or set Gateway:Admin:AllowAnonymous",
            error,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminTokenFileMissing_ExitsWith2NamingTokenFile()
    {
        var tokenFile = Path.Combine(_folder, "no-such-token");
        var path = Write(Configuration($"\"AdminUrl\": \"http://0.0.0.0:0\", \"Admin\": {{ \"TokenFile\": \"{tokenFile}\" }}"));

        var (exitCode, error) = await RunGatewayAsync("--config", path);
        output.WriteLine($"exit code {exitCode}, standard error:\n{error}");

        Assert.Equal(2, exitCode);
        Assert.Contains($"  Gateway:Admin:TokenFile: cannot read the admin token from '{tokenFile}': ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminTokenVariableUnset_ExitsWith2NamingTokenEnv()
    {
        var path = Write(Configuration("\"AdminUrl\": \"http://0.0.0.0:0\", \"Admin\": { \"TokenEnv\": \"GATEWAY_TEST_ADMIN_TOKEN_NEVER_SET\" }"));

        var (exitCode, error) = await RunGatewayAsync("--config", path);
        output.WriteLine($"exit code {exitCode}, standard error:\n{error}");

        Assert.Equal(2, exitCode);
        Assert.Contains(
            "  Gateway:Admin:TokenEnv: the environment variable 'GATEWAY_TEST_ADMIN_TOKEN_NEVER_SET' that should hold the admin token is not set or empty",
            error,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingFile_ExitsWith2NamingIt()
    {
        var path = Path.Combine(_folder, "missing.json");

        var (exitCode, error) = await RunGatewayAsync("--config", path);

        Assert.Equal(2, exitCode);
        Assert.Contains($"'{path}' does not exist", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BrokenJson_ExitsWith2()
    {
        var path = Write("""{ "Gateway": { "Services": [ """);

        var (exitCode, error) = await RunGatewayAsync("--config", path);

        Assert.Equal(2, exitCode);
        Assert.Contains("invalid configuration", error, StringComparison.Ordinal);
    }

    /// <summary>A valid configuration on ephemeral ports with <paramref name="listeners"/> (JSON members of Gateway) added.</summary>
    private static string Configuration(string listeners) => $$"""
        {
          "Gateway": {
            "PublicUrl": "http://127.0.0.1:0",
            {{listeners}},
            "Services": [
              { "Name": "qwen-chat", "Models": [ "qwen" ], "Pools": [ { "Name": "on-prem", "Static": [ "http://127.0.0.1:8000" ] } ] }
            ]
          }
        }
        """;

    private string Write(string json)
    {
        var path = Path.Combine(_folder, "gateway.json");
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>Runs the gateway host, built beside the tests, and returns its exit code and standard error.</summary>
    private static async Task<(int ExitCode, string Error)> RunGatewayAsync(params string[] args)
    {
        using var process = DotnetProcess.Start("Gateway.dll", args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(ExitTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the gateway did not exit; it wrote:\n{await output}\n{await error}");
        }

        return (process.ExitCode, await error);
    }
}

using System.Text;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// The alert rules an operator loads into Prometheus (<c>deploy/prometheus/gateway-alerts.yaml</c>) are valid, and each
/// fires when it should and not otherwise, as their promtool unit tests (<c>gateway-alerts.test.yaml</c>) say. promtool
/// comes from Debian's prometheus package, installed by the test when it is missing.
/// </summary>
public sealed class AlertRulesPassTheirPromtoolTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Rules_AreValid()
    {
        var (exitCode, output) = await PromtoolAsync("check", "rules", "gateway-alerts.yaml");

        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task RuleTests_AllPass()
    {
        var (exitCode, output) = await PromtoolAsync("test", "rules", "gateway-alerts.test.yaml");

        Assert.True(exitCode == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> PromtoolAsync(params string[] arguments)
    {
        var promtool = await DebianPackage.EnsureAsync("prometheus", "promtool");
        var folder = Path.Combine(RepositoryRoot(), "deploy", "prometheus");

        // Run in the rules' folder, as the test file's comment says to run it, so its paths read the same here as there.
        using var timeout = new CancellationTokenSource(Timeout);
        return await DebianPackage.RunAsync([promtool, .. arguments], new StringBuilder(), timeout.Token, folder);
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Gateway.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }
}

using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.LoadTests.Tests.Support;
using Gateway.Testing;

namespace Gateway.LoadTests.Tests;

/// <summary>
/// <c>peak --gateway-url --admin-url</c> drives a gateway somebody else runs: it reads that gateway's pools and metrics,
/// and leaves it running at its end.
/// </summary>
public sealed partial class PeakDrivesARunningGatewayWithoutStoppingIt
{
    [Fact]
    public async Task PeakShortAgainstARunningDemo_ReportsItsSplit_AndLeavesItRunning()
    {
        var config = DemoConfigPath();
        var (gateway, listening) = await DotnetProcess.StartListeningAsync(
            "Gateway.dll",
            [
                "--config", config, "--Gateway:PublicUrl=http://127.0.0.1:0", "--Gateway:AdminUrl=http://127.0.0.1:0",
                $"--Gateway:Services:0:Pools:1:Process:Arguments:{CloudStartupArgumentIndex(config)}=1",
                "--Gateway:Services:0:Pools:1:Scaling:ScaleOutWindowSeconds=0.5",
                "--Gateway:Services:0:Pools:1:Scaling:ScaleInStabilizationSeconds=2",
            ],
            ListeningLine(),
            TimeSpan.FromSeconds(60));
        await using (gateway)
        {
            using var admin = new HttpClient { BaseAddress = new Uri(listening.Groups[2].Value) };
            await Eventually.WaitAsync(
                async () => (await admin.GetAsync("readyz")).StatusCode, s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "the gateway to be ready");

            using var run = new DrillRun();
            var peak = await run.RunShortAsync("peak", "--gateway-url", listening.Groups[1].Value, "--admin-url", listening.Groups[2].Value);

            var ok = peak.Count("client", "ok");
            Assert.Equal(0, peak.Count("client", "failed"));
            Assert.True(ok >= 5, run.Output.ToString());
            var gatewayFigures = peak.At("gateway");
            Assert.Equal(ok, gatewayFigures.Number("servedByPool", "on-prem") + gatewayFigures.Number("servedByPool", "cloud-elastic"));
            Assert.True(gatewayFigures.Number("onPremShare") > 0);
            Assert.DoesNotContain("gateway pid", run.Output.ToString(), StringComparison.Ordinal);

            // Not the drill's to stop: still running and ready.
            Assert.False(gateway.HasExited, gateway.Output.ToString());
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("readyz")).StatusCode);
        }
    }

    private static string DemoConfigPath()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "config", "gateway.json");
            if (File.Exists(candidate) && File.Exists(Path.Combine(folder.FullName, "Gateway.sln")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("config/gateway.json not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Where the demo's cloud pool gives <c>--startup-duration</c> its value, so the test can shorten the boot.</summary>
    private static string CloudStartupArgumentIndex(string config)
    {
        using var demo = JsonDocument.Parse(File.ReadAllText(config));
        var arguments = demo.RootElement.GetProperty("Gateway").GetProperty("Services")[0].GetProperty("Pools")[1]
            .GetProperty("Process").GetProperty("Arguments").EnumerateArray().Select(a => a.GetString()).ToList();
        var index = arguments.IndexOf("--startup-duration") + 1;
        Assert.True(index > 0, "the demo's cloud pool has no --startup-duration");
        return index.ToString(CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"Gateway listening on (http://\S+) \(admin (http://\S+)\)")]
    private static partial Regex ListeningLine();
}

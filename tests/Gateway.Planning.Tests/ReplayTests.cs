using System.Diagnostics;
using Gateway.Configuration;
using Microsoft.Extensions.Configuration;
using Xunit.Abstractions;

namespace Gateway.Planning.Tests;

public sealed class ReplayTests(ITestOutputHelper output)
{
    /// <summary>The demo's configuration, as the gateway reads it.</summary>
    internal static GatewayOptions Demo()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var path = Path.Combine(folder.FullName, "config", "gateway.json");
            if (File.Exists(path) && File.Exists(Path.Combine(folder.FullName, "Gateway.sln")))
            {
                return GatewayConfiguration.Load(new ConfigurationBuilder().AddJsonFile(path).Build());
            }
        }

        throw new FileNotFoundException("config/gateway.json");
    }

    [Fact]
    public void SeedPeak_OnTheDemo_SpillsOverToTheCloudAndScalesBackIn()
    {
        var watch = Stopwatch.StartNew();
        var result = Replay.Run(
            Demo(),
            SyntheticWorkloads.Create("seed-peak"),
            new ReplaySettings(TimeSpan.FromSeconds(0.7)));
        output.WriteLine($"{watch.ElapsedMilliseconds} ms: {result}");
        output.WriteLine(string.Join(", ", result.ServedByPool.Select(p => $"{p.Key} {p.Value}")) + " | " + string.Join(", ", result.ReplicaSecondsByPool.Select(p => $"{p.Key} {p.Value}")) + " | " + string.Join(", ", result.FirstServedByPool.Select(p => $"{p.Key} {p.Value}")));

        Assert.Empty(result.Rejected);
        Assert.InRange(result.OnPremShare, 0.3, 0.45);
        Assert.InRange(result.CloudReplicaSeconds, 200, 320);
    }
}

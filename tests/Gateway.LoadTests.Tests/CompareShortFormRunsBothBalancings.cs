using System.Text.Json;
using Gateway.LoadTests.Tests.Support;

namespace Gateway.LoadTests.Tests;

/// <summary>The compare drill's short form: the same peak through a spill-over gateway, then a round-robin one.</summary>
public sealed class CompareShortFormRunsBothBalancings
{
    [Fact]
    public async Task CompareShort_SpillOverThenRoundRobin_BothPeaksReportedWithoutFailures()
    {
        using var run = new DrillRun();
        var compare = await run.RunShortAsync("compare");

        AssertPeak(compare.At("spillOver"), "SpillOver", run);
        AssertPeak(compare.At("roundRobin"), "RoundRobin", run);
    }

    private static void AssertPeak(JsonElement peak, string balancing, DrillRun run)
    {
        // The gateway itself says which balancing it ran with: the override reached it.
        Assert.Equal(balancing, peak.At("balancing").GetString());
        var ok = peak.Count("client", "ok");
        Assert.Equal(0, peak.Count("client", "failed"));
        Assert.True(ok >= 5, $"{balancing}: only {ok} answers:\n{run.Output}");
        var gateway = peak.At("gateway");
        Assert.Equal(ok, gateway.Number("servedByPool", "on-prem") + gateway.Number("servedByPool", "cloud-elastic"));
        Assert.True(gateway.Number("onPremShare") > 0);
        Assert.True(gateway.Number("cloudReplicaSeconds") > 0, $"{balancing}: no scale-out:\n{run.Output}");
        Assert.Equal(2, gateway.Count("peakCloudReplicas"));
    }
}

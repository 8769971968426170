using System.Text.Json;
using Gateway.LoadTests.Tests.Support;

namespace Gateway.LoadTests.Tests;

/// <summary>
/// The compare drill's short form: the same peak through a spill-over gateway, a round-robin one, and the seed's
/// baseline (round-robin with HPA-like scaling, its windows scaled down), each side's cost counted until its cloud
/// pool is back at 0.
/// </summary>
public sealed class CompareShortFormRunsEverySide
{
    [Fact]
    public async Task CompareShort_SpillOverRoundRobinAndSeed_EveryPeakReportedWithoutFailures()
    {
        using var run = new DrillRun();
        var compare = await run.RunShortAsync("compare");

        Assert.Equal(["spillover", "roundrobin", "seed"], compare.At("sides").EnumerateArray().Select(s => s.GetString()));
        var spillOver = AssertPeak(compare.At("spillOver"), "SpillOver", run);
        var roundRobin = AssertPeak(compare.At("roundRobin"), "RoundRobin", run);
        var seed = AssertPeak(compare.At("seed"), "RoundRobin", run);
        Assert.Equal("as configured", compare.At("scaling", "spillover").GetString());
        Assert.Equal(
            "HPA-like: TargetUtilization 0.5, ScaleOutWindowSeconds 1.5, ScaleInStabilizationSeconds 4",
            compare.At("scaling", "seed").GetString());

        // The seed side's slower windows reach the gateway: the warm-up's one client wants no cloud even at 50 %, so its
        // wish starts with the load and the scale-out waits the 1.5 s window; its 4 s of calm may begin up to a request's
        // time (under a second) before the load's last answer, so it is back at 0 at least 3 s after, where 2 s would do.
        Assert.True(seed.Number("firstScaleOutEventAt") >= 1.5, $"seed scaled out at {seed.Number("firstScaleOutEventAt")} s:\n{run.Output}");
        Assert.True(seed.Number("backToMinAfterLoadSeconds") >= 3, $"seed back at 0 after {seed.Number("backToMinAfterLoadSeconds")} s:\n{run.Output}");

        // Every side's cost runs to its pool's return to 0: the last sample is at or after it.
        foreach (var side in new[] { spillOver, roundRobin, seed })
        {
            Assert.True(side.Number("sampledUntil") >= side.Number("loadEndedAt") + side.Number("backToMinAfterLoadSeconds"));
        }
    }

    private static JsonElement AssertPeak(JsonElement peak, string balancing, DrillRun run)
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
        Assert.True(gateway.Number("backToMinAfterLoadSeconds") >= 0, $"{balancing}: the cloud pool did not return to 0:\n{run.Output}");
        return gateway;
    }
}

using Gateway.LoadTests.Tests.Support;

namespace Gateway.LoadTests.Tests;

/// <summary>
/// The peak drill's short form against the demo (the cloud pool boots in 1 s and scales in after 2 s of calm): five
/// clients, no failure, the on-prem tier serving, a scale-out to the pool's maximum and back, and the gateway's
/// counts agreeing exactly with the client's.
/// </summary>
public sealed class PeakShortFormScalesOutWithoutFailures
{
    [Fact]
    public async Task PeakShort_FiveClientsAgainstTheDemo_NoFailureScaleOutToTwoAndBackToZero()
    {
        using var run = new DrillRun();
        var peak = await run.RunShortAsync("peak");

        Assert.Equal("SpillOver", peak.At("balancing").GetString());
        Assert.Equal(5, peak.Count("settings", "concurrency"));
        Assert.Equal("qwen-chat-default.example.com", peak.At("settings", "host").GetString());
        var client = peak.At("client");
        var ok = client.Count("ok");
        Assert.Equal(0, client.Count("failed"));
        Assert.True(ok >= 5, $"only {ok} answers:\n{run.Output}");
        Assert.Equal(ok, client.Count("byStatus", "200"));
        Report.AssertPercentiles(client.At("latencyMs"), ok);
        Report.AssertPercentiles(client.At("firstTokenMs"), ok);

        // Every answer of the load is counted by the gateway, in exactly one pool: the warm-up ended before the first sample.
        var gateway = peak.At("gateway");
        var onPrem = gateway.Number("servedByPool", "on-prem");
        var cloud = gateway.Number("servedByPool", "cloud-elastic");
        Assert.Equal(ok, onPrem + cloud);
        Assert.True(onPrem > 0, run.Output.ToString());
        Assert.Equal(onPrem / ok, gateway.Number("onPremShare"), tolerance: 0.001);
        Assert.Equal(1.0, gateway.Number("onPremShare") + gateway.Number("cloudShare"), tolerance: 0.001);

        // Five clients over two on-prem slots: requests queue, the cloud pool scales out to its maximum, then back to 0.
        var queued = gateway.Number("firstQueuedAt");
        var scaledOut = gateway.Number("firstScaleOutAt");
        Assert.True(queued <= scaledOut, $"scale-out at {scaledOut} s before the first queued request at {queued} s");
        Assert.Equal(scaledOut - queued, gateway.Number("queuedToScaleOutSeconds"), tolerance: 0.001);

        // The gateway's own log times the scale-out exactly: within the load, and no later than the sample that showed it.
        var scaleOutEvent = gateway.Number("firstScaleOutEventAt");
        Assert.InRange(scaleOutEvent, 0, scaledOut + 0.1);
        Assert.Equal(2, gateway.Count("peakCloudReplicas"));
        Assert.Equal(0, gateway.Count("cloudMinReplicas"));
        Assert.True(gateway.Number("cloudReplicaSeconds") > 0);
        Assert.True(gateway.Number("backToMinAfterLoadSeconds") >= 0, $"the cloud pool did not return to 0:\n{run.Output}");
        var timeline = gateway.At("timeline").EnumerateArray().ToList();
        Assert.Equal(gateway.Count("samples"), timeline.Count);
        Assert.All(timeline, point => Assert.InRange(point.Number("onPremInFlight"), 0, 2));
        Assert.Equal(0, timeline[^1].Number("cloudReady") + timeline[^1].Number("cloudProvisioning") + timeline[^1].Number("cloudDraining"));
    }
}

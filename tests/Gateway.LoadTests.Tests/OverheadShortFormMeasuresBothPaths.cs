using Gateway.LoadTests.Tests.Support;

namespace Gateway.LoadTests.Tests;

/// <summary>
/// The overhead drill's short form: every phase sends straight to the backend and through the gateway without a
/// failure, the per-chunk delays count every chunk, and the memory burst holds its streams open together.
/// </summary>
public sealed class OverheadShortFormMeasuresBothPaths
{
    private const int ShortChunksPerStream = 10;
    private const int ShortStreams = 200;

    [Fact]
    public async Task OverheadShort_DirectAndThroughTheGateway_EveryPhaseMeasuredWithoutFailures()
    {
        using var run = new DrillRun();
        var overhead = await run.RunShortAsync("overhead");

        foreach (var phase in new[] { "plain", "streamed", "fixedRate" })
        {
            foreach (var side in new[] { "direct", "gateway" })
            {
                var stats = overhead.At(phase, side);
                var ok = stats.Count("ok");
                Assert.Equal(0, stats.Count("failed"));
                Assert.True(ok > 0, $"{phase} {side}: no answer:\n{run.Output}");
                Assert.Equal(ok, stats.Count("byStatus", "200"));
                Assert.True(stats.Number("requestsPerSecond") > 0);
                Report.AssertPercentiles(stats.At("latencyMs"), ok);
            }

            var ratio = overhead.Number(phase, "rpsRatio");
            Assert.True(ratio > 0, $"{phase}: ratio {ratio}");
            Assert.Equal(Math.Round(overhead.Number(phase, "gateway", "requestsPerSecond") / overhead.Number(phase, "direct", "requestsPerSecond"), 3), ratio, tolerance: 0.001);
        }

        // Every chunk of every stream is measured, on both paths.
        var chunks = overhead.At("chunks");
        var directStreams = chunks.Count("direct", "ok");
        var gatewayStreams = chunks.Count("gateway", "ok");
        Assert.Equal(0, chunks.Count("direct", "failed") + chunks.Count("gateway", "failed"));
        Report.AssertPercentiles(chunks.At("directMs"), directStreams * ShortChunksPerStream);
        Report.AssertPercentiles(chunks.At("gatewayMs"), gatewayStreams * ShortChunksPerStream);
        Assert.Equal((directStreams + gatewayStreams) * ShortChunksPerStream, chunks.Count("chunks"));

        var memory = overhead.At("memory");
        Assert.Equal(ShortStreams, memory.Count("streams"));
        Assert.Equal(ShortStreams, memory.Count("ok"));
        Assert.Equal(0, memory.Count("failed"));
        // Streams of 1 s started together overlap; a busy machine may spread their starts, hence not all 200.
        Assert.InRange(memory.Count("peakOpenAtBackend"), ShortStreams / 4, ShortStreams);
        Assert.True(memory.Number("rssBeforeMb") > 0);
        Assert.True(memory.Number("vmHwmMb") >= memory.Number("rssBeforeMb"));
        Assert.Equal(6, overhead.At("targets").GetArrayLength());
    }
}

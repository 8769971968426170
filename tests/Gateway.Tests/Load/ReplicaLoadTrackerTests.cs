using Gateway.Configuration;
using Gateway.Load;
using Gateway.Model;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Load;

public sealed class ReplicaLoadTrackerTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly Gateway.Model.InferenceService _service;
    private readonly Replica _onPrem;

    public ReplicaLoadTrackerTests()
    {
        _service = TwoTiers(onPremCapacity: 4, cloudCapacity: 4, _time);
        _onPrem = Add(_service.OnPrem(), "http://10.0.0.1:8000");
    }

    private ReplicaLoadTracker Tracker(StaleLoadPolicy whenStale = StaleLoadPolicy.LocalCounts, double kvCacheSaturation = 0.95) =>
        new(_onPrem, new LoadOptions { ScrapeIntervalSeconds = 1, StaleAfterIntervals = 3, WhenStale = whenStale, KvCacheSaturation = kvCacheSaturation }, _time);

    [Fact]
    public void RecordScrape_MoreOnTheReplicaThanOurOwn_CountsTheRestAsOthers()
    {
        var tracker = Tracker();

        tracker.RecordScrape(new VllmLoad(Running: 3, Waiting: 0, KvCacheUsage: 0.25), inFlightBefore: 1, inFlightAfter: 1);

        Assert.Equal(new ReplicaLoad(3, 0, 0.25, OthersInFlight: 2, Saturated: false, _time.GetTimestamp()), _onPrem.Load);
        Assert.Equal(2, _onPrem.EffectiveInFlight);
        Assert.False(tracker.IsStale);
    }

    [Fact]
    public void RecordScrape_OurRequestStartedOrEndedDuringTheScrape_IsNotCountedAsAnothers()
    {
        var tracker = Tracker();

        // One of ours started while the scrape was on its way (vLLM counted it), one ended (vLLM may still count it).
        tracker.RecordScrape(new VllmLoad(Running: 2, Waiting: 0, KvCacheUsage: 0.1), inFlightBefore: 1, inFlightAfter: 2);
        Assert.Equal(0, _onPrem.Load!.OthersInFlight);
        tracker.RecordScrape(new VllmLoad(Running: 2, Waiting: 0, KvCacheUsage: 0.1), inFlightBefore: 2, inFlightAfter: 1);
        Assert.Equal(0, _onPrem.Load!.OthersInFlight);
    }

    [Fact]
    public void RecordScrape_FewerOnTheReplicaThanOurOwn_NoOthers()
    {
        var tracker = Tracker();

        tracker.RecordScrape(new VllmLoad(Running: 1, Waiting: 0, KvCacheUsage: 0.1), inFlightBefore: 3, inFlightAfter: 3);

        Assert.Equal(0, _onPrem.Load!.OthersInFlight);
    }

    [Fact]
    public void RecordScrape_ReplicaQueues_IsSaturatedAndTakesNoRequest()
    {
        var tracker = Tracker();

        tracker.RecordScrape(new VllmLoad(Running: 1, Waiting: 1, KvCacheUsage: 0.1), inFlightBefore: 0, inFlightAfter: 0);

        Assert.Equal(new ReplicaLoad(1, 1, 0.1, OthersInFlight: 2, Saturated: true, _time.GetTimestamp()), _onPrem.Load);
        Assert.False(_onPrem.IsAvailable);
        Assert.False(_onPrem.TryReserve());
    }

    [Theory]
    [InlineData(0.95, false)]
    [InlineData(0.9501, true)]
    [InlineData(1.0, true)]
    public void RecordScrape_KvCacheAboveTheThreshold_IsSaturated(double kvCacheUsage, bool saturated)
    {
        var tracker = Tracker(kvCacheSaturation: 0.95);

        tracker.RecordScrape(new VllmLoad(Running: 1, Waiting: 0, KvCacheUsage: kvCacheUsage), inFlightBefore: 0, inFlightAfter: 0);

        Assert.Equal(saturated, _onPrem.Load!.Saturated);
        Assert.Equal(!saturated, _onPrem.IsAvailable);
    }

    [Fact]
    public void RecordScrape_OthersFillTheReplica_PlacementSpillsToTheCloud()
    {
        var cloud = Add(_service.Cloud(), "http://10.0.1.1:8000");
        var tracker = Tracker();

        // Another gateway runs four there; this one runs none.
        tracker.RecordScrape(new VllmLoad(Running: 4, Waiting: 0, KvCacheUsage: 0.3), inFlightBefore: 0, inFlightAfter: 0);

        Assert.Same(cloud, _service.Placement.TryReserve(_service, Tenant.Anonymous));
        Assert.Equal(0, _onPrem.InFlight);
    }

    [Fact]
    public void RecordFailure_WithinStaleAfterIntervals_KeepsTheLastFigures()
    {
        var tracker = Tracker();
        tracker.Begin();
        var fresh = tracker.RecordScrape(new VllmLoad(3, 0, 0.25), 0, 0);

        for (var second = 1; second <= 3; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            Assert.False(tracker.RecordFailure());
            Assert.Same(fresh, _onPrem.Load);
        }

        Assert.False(tracker.IsStale);
    }

    [Fact]
    public void RecordFailure_PastStaleAfterIntervals_LocalCounts_ForgetsTheFigures()
    {
        var tracker = Tracker(StaleLoadPolicy.LocalCounts);
        tracker.RecordScrape(new VllmLoad(4, 0, 0.25), 0, 0);
        Assert.Equal(4, _onPrem.EffectiveInFlight);

        _time.Advance(TimeSpan.FromSeconds(3) + TimeSpan.FromTicks(1));

        Assert.True(tracker.RecordFailure());
        Assert.True(tracker.IsStale);
        Assert.Null(_onPrem.Load);
        Assert.Equal(0, _onPrem.EffectiveInFlight);
        Assert.True(_onPrem.TryReserve());

        // Said once, not at every failure after.
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(tracker.RecordFailure());
        Assert.Null(_onPrem.Load);
    }

    [Fact]
    public void RecordFailure_PastStaleAfterIntervals_Saturated_KeepsTheFiguresMarkedFull()
    {
        var tracker = Tracker(StaleLoadPolicy.Saturated);
        var scrapedAt = _time.GetTimestamp();
        tracker.RecordScrape(new VllmLoad(1, 0, 0.25), 0, 0);

        _time.Advance(TimeSpan.FromSeconds(4));

        Assert.True(tracker.RecordFailure());
        Assert.Equal(new ReplicaLoad(1, 0, 0.25, OthersInFlight: 1, Saturated: true, scrapedAt), _onPrem.Load);
        Assert.False(_onPrem.TryReserve());
    }

    [Fact]
    public void RecordFailure_NeverScraped_StaleCountsFromTheFirstAttempt()
    {
        var tracker = Tracker(StaleLoadPolicy.Saturated);
        var began = _time.GetTimestamp();
        tracker.Begin();

        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.False(tracker.RecordFailure());
        Assert.Null(_onPrem.Load);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(tracker.RecordFailure());
        Assert.Equal(new ReplicaLoad(0, 0, 0, 0, Saturated: true, began), _onPrem.Load);
    }

    [Fact]
    public void RecordScrape_AfterStale_IsFreshAgainAndWakesTheQueue()
    {
        var tracker = Tracker(StaleLoadPolicy.Saturated);
        tracker.Begin();
        _time.Advance(TimeSpan.FromSeconds(5));
        tracker.RecordFailure();
        Assert.False(_onPrem.IsAvailable);

        tracker.RecordScrape(new VllmLoad(0, 0, 0), 0, 0);

        Assert.False(tracker.IsStale);
        Assert.Equal(new ReplicaLoad(0, 0, 0, 0, Saturated: false, _time.GetTimestamp()), _onPrem.Load);
        Assert.True(_onPrem.IsAvailable);
    }

    [Fact]
    public void Reset_ReplicaNotReady_ForgetsFiguresAndRestartsTheStaleClock()
    {
        var tracker = Tracker(StaleLoadPolicy.Saturated);
        tracker.RecordScrape(new VllmLoad(2, 0, 0.5), 0, 0);
        _time.Advance(TimeSpan.FromSeconds(10));

        tracker.Reset();
        Assert.Null(_onPrem.Load);

        // Ready again: three intervals of grace from now, not from the old scrape.
        tracker.Begin();
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.False(tracker.RecordFailure());
        Assert.Null(_onPrem.Load);
    }
}

using Gateway.Configuration;
using Gateway.Model;

namespace Gateway.Load;

/// <summary>
/// Turns one replica's scrapes into the <see cref="ReplicaLoad"/> placement reads: fresh figures after a good
/// scrape, the last figures through a few failed ones, and the pool's <see cref="LoadOptions.WhenStale"/> once
/// no scrape has succeeded for <see cref="LoadOptions.StaleAfterIntervals"/> intervals. Used by one scrape loop
/// at a time, so it needs no lock.
/// </summary>
internal sealed class ReplicaLoadTracker
{
    private readonly Replica _replica;
    private readonly LoadOptions _options;
    private readonly TimeProvider _time;
    private readonly TimeSpan _staleAfter;

    // When the figures were last good, or when tracking began if they never were: staleness counts from here.
    private long? _freshSince;
    private ReplicaLoad? _last;

    public ReplicaLoadTracker(Replica replica, LoadOptions options, TimeProvider time)
    {
        _replica = replica;
        _options = options;
        _time = time;
        _staleAfter = TimeSpan.FromSeconds(options.ScrapeIntervalSeconds * options.StaleAfterIntervals);
    }

    public Replica Replica => _replica;

    /// <summary>How long figures stay good without a successful scrape.</summary>
    public TimeSpan StaleAfter => _staleAfter;

    /// <summary>What placement assumes once they are stale.</summary>
    public StaleLoadPolicy WhenStale => _options.WhenStale;

    /// <summary>Whether the figures are stale now and <see cref="LoadOptions.WhenStale"/> applies.</summary>
    public bool IsStale { get; private set; }

    /// <summary>
    /// Records a good scrape. <paramref name="inFlightBefore"/> and <paramref name="inFlightAfter"/> are this
    /// gateway's in-flight counts when the scrape was sent and when it was answered: the larger one is taken off
    /// the replica's count, so that a request of ours starting or ending during the scrape is never mistaken for
    /// another client's.
    /// </summary>
    public ReplicaLoad RecordScrape(VllmLoad load, int inFlightBefore, int inFlightAfter)
    {
        var now = _time.GetTimestamp();
        var own = Math.Max(inFlightBefore, inFlightAfter);
        var others = Math.Max(0, load.Running + load.Waiting - own);
        var saturated = load.Waiting > 0 || load.KvCacheUsage > _options.KvCacheSaturation;
        var fresh = new ReplicaLoad(load.Running, load.Waiting, load.KvCacheUsage, others, saturated, now);
        _freshSince = now;
        _last = fresh;
        IsStale = false;
        _replica.SetLoad(fresh);
        return fresh;
    }

    /// <summary>
    /// Records a failed scrape: the last figures stand until they are stale, then the pool's policy applies.
    /// Returns true when this failure is the one that made them stale.
    /// </summary>
    public bool RecordFailure()
    {
        var now = _time.GetTimestamp();
        _freshSince ??= now;
        if (IsStale || _time.GetElapsedTime(_freshSince.Value, now) <= _staleAfter)
        {
            return false;
        }

        IsStale = true;
        _replica.SetLoad(_options.WhenStale == StaleLoadPolicy.Saturated
            ? (_last ?? new ReplicaLoad(0, 0, 0, 0, Saturated: true, _freshSince.Value)) with { Saturated = true }
            : null);
        return true;
    }

    /// <summary>
    /// Forgets the figures while the replica is not ready (provisioning, draining): they will be old when it
    /// serves again, and its staleness clock starts anew then.
    /// </summary>
    public void Reset()
    {
        if (_freshSince is null && _last is null && _replica.Load is null)
        {
            return;
        }

        _freshSince = null;
        _last = null;
        IsStale = false;
        _replica.SetLoad(null);
    }

    /// <summary>Starts the staleness clock, if it has not started: the replica is ready and about to be scraped.</summary>
    public void Begin() => _freshSince ??= _time.GetTimestamp();
}

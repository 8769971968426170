namespace Gateway.Model;

/// <summary>
/// One replica's health record, fed by the active <c>/health</c> probe and by the forwarder's view of real traffic.
/// </summary>
/// <remarks>
/// <para>
/// Failures in a row (a failed probe, a refused connection, a 5xx answer) take the replica out once they reach the
/// pool's threshold; any success clears the count. Only a probe brings a replica back: real traffic no longer
/// reaches it once it is out.
/// </para>
/// <para>
/// A healthy replica is probed every interval. An unhealthy one is probed after a back-off of interval × 2^strikes,
/// capped, where a strike is each time it was taken out and each probe it failed while out. Strikes are forgotten
/// once the replica has stayed healthy for the longest back-off, so a replica that keeps failing real requests while
/// its <c>/health</c> says 200 is let back in less and less often, and one that failed long ago starts afresh.
/// </para>
/// <para>
/// Times are readings of the monitor's monotonic clock, passed in, so the record itself holds no clock.
/// </para>
/// </remarks>
internal sealed class ReplicaHealth(Replica replica)
{
    // Above this, interval × 2^strikes is past any cap a day-long limit allows.
    private const int MaxStrikes = 30;

    private readonly Lock _lock = new();
    private int _failures;
    private int _strikes;
    private TimeSpan _healthySince;
    private TimeSpan _nextProbeAt;

    /// <summary>Failures in a row since the last success.</summary>
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>Strikes that set the next back-off.</summary>
    public int Strikes
    {
        get
        {
            lock (_lock)
            {
                return _strikes;
            }
        }
    }

    /// <summary>When the next probe is due; zero (at once) for a replica never probed.</summary>
    public TimeSpan NextProbeAt
    {
        get
        {
            lock (_lock)
            {
                return _nextProbeAt;
            }
        }
    }

    /// <summary>Whether a probe is due at <paramref name="now"/>.</summary>
    public bool IsProbeDue(TimeSpan now) => now >= NextProbeAt;

    /// <summary>A probe that started at <paramref name="now"/> answered 200.</summary>
    public HealthChange ProbeSucceeded(TimeSpan now, HealthPolicy policy)
    {
        lock (_lock)
        {
            var hadFailed = _failures > 0;
            _failures = 0;
            _nextProbeAt = now + policy.ProbeInterval;
            if (!replica.IsHealthy)
            {
                _healthySince = now;

                // Under the lock, so that a strike racing with this cannot be overtaken and leave the flag wrong.
                replica.SetHealthy(true);
                return HealthChange.Recovered;
            }

            if (hadFailed)
            {
                // Failed lately but never taken out, and answering again: requests it failed may take it again.
                replica.MarkRecovered();
            }

            if (now - _healthySince >= policy.MaxBackoff)
            {
                _strikes = 0;
            }

            return HealthChange.None;
        }
    }

    /// <summary>A probe that started at <paramref name="now"/> failed: an error status, no connection, or no answer in time.</summary>
    public HealthChange ProbeFailed(TimeSpan now, HealthPolicy policy)
    {
        lock (_lock)
        {
            _failures++;
            if (!replica.IsHealthy)
            {
                _nextProbeAt = now + policy.Backoff(Strike());
                return HealthChange.None;
            }

            if (_failures >= policy.UnhealthyAfterFailures)
            {
                return TakeOut(now, policy);
            }

            _nextProbeAt = now + policy.ProbeInterval;
            return HealthChange.None;
        }
    }

    /// <summary>A request to the replica failed at <paramref name="now"/> in a way that is the replica's fault.</summary>
    public HealthChange TrafficFailed(TimeSpan now, HealthPolicy policy)
    {
        lock (_lock)
        {
            _failures++;
            return replica.IsHealthy && _failures >= policy.UnhealthyAfterFailures ? TakeOut(now, policy) : HealthChange.None;
        }
    }

    /// <summary>A request got a good answer; on the hot path, so it takes the lock only when there is a count to clear.</summary>
    public void TrafficSucceeded()
    {
        if (Volatile.Read(ref _failures) == 0)
        {
            return;
        }

        lock (_lock)
        {
            if (_failures == 0)
            {
                return;
            }

            _failures = 0;
        }

        replica.MarkRecovered();
    }

    private HealthChange TakeOut(TimeSpan now, HealthPolicy policy)
    {
        replica.SetHealthy(false);
        _nextProbeAt = now + policy.Backoff(Strike());
        return HealthChange.TakenOut;
    }

    /// <summary>Counts a strike; returns the strikes before it, which set this back-off.</summary>
    private int Strike()
    {
        var before = _strikes;
        _strikes = Math.Min(before + 1, MaxStrikes);
        return before;
    }
}

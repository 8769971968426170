namespace Gateway.Planning;

/// <summary>
/// Time that moves only when the replay moves it: the gateway's queue, scale controller and timers run on it as they
/// run on the system clock, and a replay jumps from one due timer to the next instead of waiting. Timers fire in order
/// of due time, then of creation; a callback runs on the replay's one thread.
/// </summary>
internal sealed class VirtualClock(DateTimeOffset start) : TimeProvider
{
    private readonly PriorityQueue<(VirtualTimer Timer, long Version), (long Due, long Order)> _timers = new();
    private long _now;
    private long _order;

    /// <summary>Time since the replay began.</summary>
    public TimeSpan Elapsed => new(_now);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow() => start + Elapsed;

    public override long GetTimestamp() => _now;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new VirtualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>When the next live timer is due, or null when none is set.</summary>
    public TimeSpan? NextDue
    {
        get
        {
            while (_timers.TryPeek(out var entry, out var key))
            {
                if (entry.Timer.IsCurrent(entry.Version))
                {
                    return new TimeSpan(key.Due);
                }

                _timers.Dequeue();
            }

            return null;
        }
    }

    /// <summary>
    /// Moves time to the next live timer's due time (never backwards) and fires it; false when no timer is set or
    /// the next is due after <paramref name="limit"/>.
    /// </summary>
    public bool FireNext(TimeSpan limit)
    {
        if (NextDue is not { } due || due > limit)
        {
            return false;
        }

        var (timer, _) = _timers.Dequeue();
        _now = Math.Max(_now, due.Ticks);
        timer.Fire();
        return true;
    }

    /// <summary>Moves time forward to <paramref name="to"/> without firing anything (the replay's end).</summary>
    public void AdvanceTo(TimeSpan to) => _now = Math.Max(_now, to.Ticks);

    private void Schedule(VirtualTimer timer, long version, TimeSpan dueTime) =>
        _timers.Enqueue((timer, version), (_now + Math.Max(0, dueTime.Ticks), _order++));

    /// <summary>A timer of the virtual clock; changing or disposing it makes its queued firing stale.</summary>
    private sealed class VirtualTimer(VirtualClock clock, TimerCallback callback, object? state) : ITimer
    {
        private long _version;
        private TimeSpan _period = Timeout.InfiniteTimeSpan;
        private bool _disposed;

        public bool IsCurrent(long version) => !_disposed && version == _version;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (_disposed)
            {
                return false;
            }

            _version++;
            _period = period;
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                clock.Schedule(this, _version, dueTime);
            }

            return true;
        }

        public void Fire()
        {
            if (_period != Timeout.InfiniteTimeSpan && _period > TimeSpan.Zero)
            {
                clock.Schedule(this, _version, _period);
            }

            callback(state);
        }

        public void Dispose()
        {
            _disposed = true;
            _version++;
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

using Gateway.LoadTests.Targets;

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// Reads the gateway's replicas from <c>/admin/status</c> at a fixed interval through a phase, so the drill can tell
/// what the fault did inside the gateway (a replica taken out, restarted under another pid, a cloud replica joining)
/// and when, on the phase's clock. A failed read (the gateway busy, or gone after SIGTERM) is skipped.
/// </summary>
internal sealed class StatusWatch : IAsyncDisposable
{
    private readonly HttpClient _admin;
    private readonly string _service;
    private readonly Func<double> _now;
    private readonly List<(double At, IReadOnlyList<ReplicaView> Replicas)> _views = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private StatusWatch(HttpClient admin, string service, Func<double> now, TimeSpan interval)
    {
        _admin = admin;
        _service = service;
        _now = now;
        _loop = LoopAsync(interval, _stop.Token);
    }

    /// <summary>Starts reading every <paramref name="interval"/>, timing each read with <paramref name="now"/>.</summary>
    public static StatusWatch Start(HttpClient admin, string service, Func<double> now, TimeSpan interval) => new(admin, service, now, interval);

    /// <summary>Every read so far, in time order.</summary>
    public IReadOnlyList<(double At, IReadOnlyList<ReplicaView> Replicas)> Views
    {
        get
        {
            lock (_views)
            {
                return [.. _views];
            }
        }
    }

    /// <summary>Reads now and keeps the read.</summary>
    public async Task<IReadOnlyList<ReplicaView>> ReadAsync(CancellationToken cancellationToken)
    {
        var at = _now();
        var replicas = await ReplicaView.ReadAsync(_admin, _service, cancellationToken);
        lock (_views)
        {
            _views.Add((Math.Round(at, 3), replicas));
        }

        return replicas;
    }

    /// <summary>Reads until <paramref name="until"/> holds for one replica of <paramref name="pool"/>, or <paramref name="timeout"/> passes (then null).</summary>
    public async Task<ReplicaView?> WaitForAsync(string pool, Func<ReplicaView, bool> until, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = _now() + timeout.TotalSeconds;
        while (true)
        {
            try
            {
                foreach (var replica in await ReadAsync(cancellationToken))
                {
                    if (replica.Pool == pool && until(replica))
                    {
                        return replica;
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // A busy admin listener: read again.
            }

            if (_now() > deadline)
            {
                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }

    /// <summary>When a replica of <paramref name="pool"/> first matched <paramref name="condition"/> at or after <paramref name="since"/>, or null.</summary>
    public double? FirstAt(string pool, double since, Func<ReplicaView, bool> condition)
    {
        foreach (var (at, replicas) in Views)
        {
            if (at >= since && replicas.Any(r => r.Pool == pool && condition(r)))
            {
                return at;
            }
        }

        return null;
    }

    /// <summary>The process ids seen in <paramref name="pool"/>, in the order they first appeared.</summary>
    public IReadOnlyList<int> Pids(string pool) =>
        [.. Views.SelectMany(v => v.Replicas).Where(r => r.Pool == pool && r.Pid is not null).Select(r => r.Pid!.Value).Distinct()];

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private async Task LoopAsync(TimeSpan interval, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                try
                {
                    await ReadAsync(stop);
                }
                catch (HttpRequestException)
                {
                    // Busy, or gone after SIGTERM.
                }
                catch (TaskCanceledException) when (!stop.IsCancellationRequested)
                {
                    // A read that took longer than the admin client's timeout.
                }
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }
}

using System.Net;
using System.Threading.Channels;
using Gateway.Configuration;
using Gateway.Health;
using Gateway.Model;
using Gateway.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Health;

/// <summary>
/// The monitor as the gateway wires it (its named probe client with the resilience timeout), on a fake clock, with a
/// stub in place of the replicas' <c>/health</c>. The test advances the clock only while the monitor sleeps, so every
/// probe lands on an exact second.
/// </summary>
public sealed class ReplicaHealthMonitorTests(ITestOutputHelper output) : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(0.3);

    private readonly SleepWatchingClock _time = new(ProbeTimeout);
    private readonly RecordingLogger<ReplicaHealthMonitor> _logger = new(output);
    private ServiceProvider? _services;
    private ReplicaHealthMonitor? _monitor;

    [Fact]
    public async Task DeadReplica_TakenOutAfterTwoFailedProbes_ProbedWithGrowingBackOff_BackWhenHealthAnswers200()
    {
        var stub = new HealthStub(_time) { Status = HttpStatusCode.ServiceUnavailable };
        var pool = Start(stub);
        var replica = Add(pool, "http://10.0.0.1:8000");
        Add(pool, "http://10.0.0.2:8000", ReplicaState.Provisioning);
        await _monitor!.StartAsync(CancellationToken.None);

        await _time.SleepStartedAsync();
        Assert.True(replica.IsHealthy);
        await TickAsync();
        Assert.False(replica.IsHealthy);

        // Back-off from each failed probe: 1, 2, then 4 seconds (the cap), 4 again; /health answers 200 from 12 s on.
        for (var second = 2; second <= 12; second++)
        {
            stub.Status = second == 12 ? HttpStatusCode.OK : HttpStatusCode.ServiceUnavailable;
            await TickAsync();
            Assert.Equal(second == 12, replica.IsHealthy);
        }

        Assert.Equal([0, 1, 2, 4, 8, 12], stub.ProbeSeconds);
        Assert.Equal(["10.0.0.1:8000"], stub.ProbedHosts);
        Assert.Equal([3300, 3301], _logger.Entries.Where(e => e.Level >= LogLevel.Information).Select(e => e.EventId));
    }

    [Fact]
    public async Task HealthyReplica_ProbedEveryInterval()
    {
        var stub = new HealthStub(_time);
        var replica = Add(Start(stub), "http://10.0.0.1:8000");
        await _monitor!.StartAsync(CancellationToken.None);
        await _time.SleepStartedAsync();

        for (var second = 1; second <= 3; second++)
        {
            await TickAsync();
        }

        Assert.Equal([0, 1, 2, 3], stub.ProbeSeconds);
        Assert.True(replica.IsHealthy);
        Assert.Equal(0, replica.Health.Failures);
    }

    [Fact]
    public async Task HangingHealth_ProbeTimesOutAfterProbeTimeout_AndCountsAsAFailure()
    {
        var stub = new HealthStub(_time) { Hang = true };
        var replica = Add(Start(stub), "http://10.0.0.1:8000");
        await _monitor!.StartAsync(CancellationToken.None);

        await _time.ProbeTimeoutStartedAsync();
        _time.Advance(ProbeTimeout - TimeSpan.FromTicks(1));
        Assert.Equal(0, replica.Health.Failures);
        _time.Advance(TimeSpan.FromTicks(1));
        await Eventually.WaitAsync(() => Task.FromResult(replica.Health.Failures), n => n == 1, Deadline, "the timed-out probe counted");
        Assert.True(replica.IsHealthy);

        // The monitor keeps its pace: the next probe starts one interval after the first one did.
        Assert.Equal(Interval - ProbeTimeout, await _time.SleepStartedAsync());
        _time.Advance(Interval - ProbeTimeout);
        await _time.ProbeTimeoutStartedAsync();
        _time.Advance(ProbeTimeout);
        await _time.SleepStartedAsync();

        Assert.False(replica.IsHealthy);
        Assert.Equal([0, 1], stub.ProbeSeconds);
    }

    [Fact]
    public async Task FailuresInTraffic_TakeTheReplicaOutAtOnce_AndTheNextProbeBringsItBack()
    {
        var stub = new HealthStub(_time);
        var replica = Add(Start(stub), "http://10.0.0.1:8000");
        await _monitor!.StartAsync(CancellationToken.None);
        await _time.SleepStartedAsync();
        _time.Advance(TimeSpan.FromSeconds(0.5));

        _monitor.OnTrafficFailure(replica);
        Assert.True(replica.IsHealthy);
        _monitor.OnTrafficFailure(replica);
        Assert.False(replica.IsHealthy);

        // Taken out at 0.5 s: the back-off of one interval makes the probe at 1 s too early, the one at 2 s brings it back.
        _time.Advance(TimeSpan.FromSeconds(0.5));
        await _time.SleepStartedAsync();
        Assert.False(replica.IsHealthy);
        await TickAsync();

        Assert.True(replica.IsHealthy);
        Assert.Equal([0, 2], stub.ProbeSeconds);
        Assert.Equal([3300, 3301], _logger.Entries.Where(e => e.Level >= LogLevel.Information).Select(e => e.EventId));
    }

    [Fact]
    public void SuccessInTraffic_ClearsTheFailures()
    {
        var replica = Add(Start(new HealthStub(_time)), "http://10.0.0.1:8000");

        _monitor!.OnTrafficFailure(replica);
        ReplicaHealthMonitor.OnTrafficSuccess(replica);
        _monitor.OnTrafficFailure(replica);

        Assert.True(replica.IsHealthy);
        Assert.Equal(1, replica.Health.Failures);
    }

    private async Task TickAsync()
    {
        _time.Advance(Interval);
        await _time.SleepStartedAsync();
    }

    private Pool Start(HealthStub stub)
    {
        var service = Service(Pool("on-prem", 0, 4, "http://10.0.0.1:8000"));
        service.Pools[0].Health = new HealthOptions
        {
            ProbeIntervalSeconds = Interval.TotalSeconds,
            ProbeTimeoutSeconds = ProbeTimeout.TotalSeconds,
            UnhealthyAfterFailures = 2,
            MaxBackoffSeconds = 4,
        };
        var options = Options(service);
        var topology = Build(options, _time);
        var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(_time)
            .AddSingleton(topology)
            .AddSingleton(options)
            .AddLogging()
            .AddSingleton<ILogger<ReplicaHealthMonitor>>(_logger)
            .AddReplicaHealth(options);
        services.ConfigureHttpClientDefaults(client => client.ConfigurePrimaryHttpMessageHandler(() => stub));
        _services = services.BuildServiceProvider();
        _monitor = _services.GetRequiredService<ReplicaHealthMonitor>();
        return topology.Services[0].OnPrem();
    }

    public async ValueTask DisposeAsync()
    {
        if (_monitor is not null)
        {
            await _monitor.StopAsync(CancellationToken.None);
        }

        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
    }

    /// <summary>
    /// A fake clock that tells when a probe's timeout starts (a timer of the probe timeout) and when the monitor goes
    /// to sleep (any other timer with a due time: the test's timeout differs from every wait the monitor makes).
    /// </summary>
    private sealed class SleepWatchingClock(TimeSpan probeTimeout) : FakeTimeProvider
    {
        private readonly Channel<TimeSpan> _sleeps = Channel.CreateUnbounded<TimeSpan>();
        private readonly Channel<TimeSpan> _probeTimeouts = Channel.CreateUnbounded<TimeSpan>();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new WatchedTimer(this, base.CreateTimer(callback, state, dueTime, period));
            timer.Watch(dueTime);
            return timer;
        }

        public void Started(TimeSpan dueTime)
        {
            if (dueTime == probeTimeout)
            {
                _probeTimeouts.Writer.TryWrite(dueTime);
            }
            else if (dueTime != Timeout.InfiniteTimeSpan)
            {
                _sleeps.Writer.TryWrite(dueTime);
            }
        }

        /// <summary>Waits until the monitor's loop sleeps once more.</summary>
        public Task<TimeSpan> SleepStartedAsync() => _sleeps.Reader.ReadAsync().AsTask().WaitAsync(Deadline);

        /// <summary>Waits until one more probe has started its timeout.</summary>
        public Task<TimeSpan> ProbeTimeoutStartedAsync() => _probeTimeouts.Reader.ReadAsync().AsTask().WaitAsync(Deadline);
    }

    /// <summary>A fake timer that reports each start, whether at creation or by <see cref="Change"/> (Polly's pooled timeouts).</summary>
    private sealed class WatchedTimer(SleepWatchingClock clock, ITimer timer) : ITimer
    {
        public void Watch(TimeSpan dueTime) => clock.Started(dueTime);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            var changed = timer.Change(dueTime, period);
            Watch(dueTime);
            return changed;
        }

        public void Dispose() => timer.Dispose();

        public ValueTask DisposeAsync() => timer.DisposeAsync();
    }

    /// <summary>Answers every <c>/health</c> with <see cref="Status"/> (or hangs), noting when each probe came and to which replica.</summary>
    private sealed class HealthStub(FakeTimeProvider time) : HttpMessageHandler
    {
        private readonly long _origin = time.GetTimestamp();
        private readonly List<(double Seconds, string Host)> _probes = [];

        public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

        public bool Hang { get; set; }

        public double[] ProbeSeconds
        {
            get
            {
                lock (_probes)
                {
                    return [.. _probes.Select(p => p.Seconds)];
                }
            }
        }

        public string[] ProbedHosts
        {
            get
            {
                lock (_probes)
                {
                    return [.. _probes.Select(p => p.Host).Distinct()];
                }
            }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.Equal("/health", request.RequestUri!.AbsolutePath);
            lock (_probes)
            {
                _probes.Add((time.GetElapsedTime(_origin).TotalSeconds, request.RequestUri.Authority));
            }

            if (Hang)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            }

            return new HttpResponseMessage(Status);
        }
    }
}

using Gateway.Admission;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers;
using Gateway.Scaling;
using Gateway.Telemetry;
using Gateway.Tenancy;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Planning;

/// <summary>How a replay runs beyond the gateway's configuration.</summary>
/// <param name="ProcessStart">Added to a process replica's start-up: the process's own start before its /health answers.</param>
/// <param name="Seed">Seeds placement's tie-breaking, so a replay is repeatable.</param>
/// <param name="ReplicaFlags">Simulator flags per pool name, for pools that start no simulator.</param>
/// <param name="TimerLatenessMs">The most a replica's wait (first token, each token) ends late, drawn evenly from 0 up to it.</param>
/// <param name="Tail">
/// How long the replay goes on after the last answer, at most, for elastic pools to scale back in: their replica-seconds
/// count until they are back at their minimum.
/// </param>
internal sealed record ReplaySettings(
    TimeSpan ProcessStart,
    int Seed = 1,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? ReplicaFlags = null,
    double TimerLatenessMs = 7,
    TimeSpan? Tail = null);

/// <summary>
/// Replays a workload against a gateway configuration in virtual time: the gateway's own <see cref="ServiceQueue"/>,
/// placement policy and <see cref="ScalingService"/> (with its <see cref="ScaleController"/>), on a
/// <see cref="VirtualClock"/>, on one thread (<see cref="SimulationContext"/>). Replicas are
/// <see cref="VirtualReplicaProvider"/>s timed by each pool's <see cref="ReplicaModel"/>: a placed request waits its
/// time to first token, then each token's latency, each taken from the batch on its replica at that moment, as the
/// simulator does; then its slot is released, which hands it to the next in the queue as in the gateway.
/// </summary>
internal sealed class Replay
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly GatewayOptions _options;
    private readonly ReplaySettings _settings;
    private readonly VirtualClock _clock = new(Epoch);
    private readonly SimulationContext _context = new();
    private readonly GatewayTopology _topology;
    private readonly ServiceQueues _queues;
    private readonly Dictionary<Pool, ReplicaModel> _models = [];
    private readonly Dictionary<string, Tenant> _tenants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tenant> _unknownTenants = new(StringComparer.Ordinal);
    private readonly ReplayRecorder _recorder;
    private readonly Random _random;
    private int _outstanding;

    private Replay(GatewayOptions options, ReplaySettings settings)
    {
        _options = GatewayConfiguration.Validate(options);
        _settings = settings;
        _topology = new GatewayTopology(options);
        _queues = new ServiceQueues(_topology, _clock, new Random(settings.Seed), options.Classes);
        foreach (var tenant in new TenantDirectory(options).Attributable)
        {
            _tenants[tenant.Name] = tenant;
        }

        foreach (var service in _topology.Services)
        {
            foreach (var pool in service.Pools)
            {
                IReadOnlyList<string>? flags = null;
                settings.ReplicaFlags?.TryGetValue(pool.Name, out flags);
                _models[pool] = ReplicaModel.For(pool.Options, flags, settings.ProcessStart);
            }
        }

        _recorder = new ReplayRecorder(_topology, _clock);
        _random = new Random(settings.Seed);
    }

    /// <summary>Replays <paramref name="workload"/> against <paramref name="options"/> (validated first) and returns what happened.</summary>
    public static ReplayResult Run(GatewayOptions options, Workload workload, ReplaySettings settings)
    {
        var replay = new Replay(options, settings);
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(replay._context);
        try
        {
            return replay.Run(workload);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private ReplayResult Run(Workload workload)
    {
        var metrics = new GatewayMetrics(_topology, _clock);
        var kinds = new[] { ReplicaProviders.StaticKind, ReplicaProviders.ProcessKind, ReplicaProviders.WebhookKind, ReplicaProviders.ProviderKind, ReplicaProviders.KubernetesKind };
        var providers = new ReplicaProviders(
            _topology, kinds.Select(kind => new VirtualProviderFactory(kind, pool => new VirtualReplicaProvider(pool, _models[pool], _clock))));
        Completed(providers.StartAsync(CancellationToken.None), "starting the pools");
        using var stopping = new CancellationTokenSource();
        var scaling = new ScalingService(_topology, _options, providers, new SoleLeadership(), metrics, _clock, NullLogger<ScalingService>.Instance);
        var loops = scaling.RunInPlaceAsync(stopping.Token);

        var end = Start(workload);
        var lastAnswer = Drive(() => _outstanding == 0 && _clock.Elapsed >= end, TimeSpan.MaxValue);
        if (loops is { IsFaulted: true } failed)
        {
            throw new PlanningException("the scaling loop failed in the replay: " + failed.Exception!.InnerException!.Message);
        }

        // The tail: elastic pools scale back in on their own clock, and what they cost until then is part of the plan.
        var tail = _settings.Tail ?? DefaultTail();
        Drive(AllAtMinimum, lastAnswer + tail);
        stopping.Cancel();
        _context.RunPending();
        return _recorder.Result(lastAnswer);
    }

    /// <summary>
    /// Runs posted work and fires due timers, counting replica-seconds between events, until <paramref name="done"/>
    /// holds or time would pass <paramref name="limit"/>; returns the time it stopped at.
    /// </summary>
    private TimeSpan Drive(Func<bool> done, TimeSpan limit)
    {
        while (true)
        {
            _context.RunPending();
            if (done())
            {
                return _clock.Elapsed;
            }

            if (_clock.NextDue is not { } due || due > limit)
            {
                if (limit != TimeSpan.MaxValue)
                {
                    _recorder.Account(limit);
                    _clock.AdvanceTo(limit);
                }

                return _clock.Elapsed;
            }

            _recorder.Account(due);
            _clock.FireNext(limit);
        }
    }

    /// <summary>Starts the workload's requests or clients; returns when its last arrival may come.</summary>
    private TimeSpan Start(Workload workload)
    {
        switch (workload)
        {
            case OpenLoopWorkload open:
                foreach (var request in open.Requests)
                {
                    _outstanding++;
                    _clock.CreateTimer(static state => Arrive((Arrival)state!), new Arrival(this, request), request.ArrivalOffset, Timeout.InfiniteTimeSpan);
                }

                return open.Duration;
            case ClosedLoopWorkload closed:
                for (var i = 0; i < closed.Clients; i++)
                {
                    _outstanding++;
                    _ = ClientAsync(closed);
                }

                return closed.Duration;
            default:
                throw new PlanningException("unknown workload " + workload);
        }
    }

    private async Task ClientAsync(ClosedLoopWorkload client)
    {
        while (_clock.Elapsed < client.Duration)
        {
            await ServeAsync(client.Template);
            if (client.ThinkTime > TimeSpan.Zero)
            {
                await Task.Delay(client.ThinkTime, _clock);
            }
        }

        _outstanding--;
    }

    private static async void Arrive(Arrival arrival)
    {
        try
        {
            await arrival.Replay.ServeAsync(arrival.Request);
        }
        finally
        {
            arrival.Replay._outstanding--;
        }
    }

    /// <summary>A request due at its arrival, as its timer's state.</summary>
    private sealed record Arrival(Replay Replay, TraceRequest Request);

    /// <summary>One request: through the service's queue onto a replica, timed by its pool's model, then its slot released.</summary>
    private async Task ServeAsync(TraceRequest request)
    {
        var arrival = _clock.GetTimestamp();
        var service = request.Service is null ? _topology.Services[0] : _topology.Services.FirstOrDefault(s => s.Name == request.Service) ?? _topology.Services[0];
        var tenant = TenantOf(request);
        var admission = await _queues[service].AcquireAsync(tenant, CancellationToken.None);
        if (admission.Replica is not { } replica)
        {
            _recorder.Rejected(admission.Failure);
            return;
        }

        var model = _models[replica.Pool];
        var tokens = request.CompletionTokens;
        TimeSpan? firstToken = null;
        try
        {
            await Task.Delay(model.TimeToFirstToken(request.PromptTokens, replica.InFlight) + Lateness(), _clock);
            if (request.Stream)
            {
                firstToken = _clock.GetElapsedTime(arrival);
            }

            for (var i = 1; i < tokens; i++)
            {
                await Task.Delay(model.InterTokenLatency(replica.InFlight) + Lateness(), _clock);
            }
        }
        finally
        {
            replica.Release();
        }

        var duration = _clock.GetElapsedTime(arrival);
        _recorder.Answered(replica.Pool, admission.Waited, firstToken ?? duration, duration, request.PromptTokens, tokens);
    }

    /// <summary>
    /// The configured tenant of the request's name; for a name configuration does not know (a log from a gateway with
    /// other tenants, a synthetic trace), a tenant of that name in the request's class, so its priority still counts.
    /// </summary>
    private Tenant TenantOf(TraceRequest request)
    {
        var name = request.Tenant ?? Tenant.Anonymous.Name;
        var key = $"{name}\n{request.Priority}";
        if (_tenants.TryGetValue(name, out var known))
        {
            return known;
        }

        if (!_unknownTenants.TryGetValue(key, out var made))
        {
            made = new Tenant(new TenantOptions { Name = name, Priority = request.Priority });
            _unknownTenants[key] = made;
        }

        return made;
    }

    /// <summary>
    /// How late one of a replica's waits ends, 0 to <see cref="ReplaySettings.TimerLatenessMs"/>: a real replica's
    /// timers fire after their due time, never before, and its answers pass through the gateway's and the client's
    /// processes. The default, 7 ms (3.5 on average), is what the peak drill's simulators took beyond their model on
    /// the 2-core test machine: 745 ms for a 10-token answer at a full batch against the model's 705. Drawn from the
    /// replay's seeded random, so a replay stays repeatable.
    /// </summary>
    private TimeSpan Lateness() =>
        _settings.TimerLatenessMs > 0 ? TimeSpan.FromMilliseconds(_random.NextDouble() * _settings.TimerLatenessMs) : TimeSpan.Zero;

    private bool AllAtMinimum()
    {
        foreach (var service in _topology.Services)
        {
            foreach (var pool in service.Pools)
            {
                if (pool.Scaling is { } scaling && pool.Replicas.Count > scaling.MinReplicas)
                {
                    return false;
                }
            }
        }

        return true;
    }

    private TimeSpan DefaultTail()
    {
        var longest = TimeSpan.Zero;
        foreach (var service in _options.Services)
        {
            foreach (var pool in service.Pools)
            {
                if (pool.Scaling is { } scaling)
                {
                    var tail = TimeSpan.FromSeconds(scaling.ScaleInStabilizationSeconds + scaling.DrainTimeoutSeconds + 60);
                    longest = tail > longest ? tail : longest;
                }
            }
        }

        return longest;
    }

    /// <summary>The gateway's start-up steps complete at once here (nothing runs); one that does not is a replay bug.</summary>
    private void Completed(Task task, string what)
    {
        _context.RunPending();
        if (!task.IsCompletedSuccessfully)
        {
            throw new PlanningException($"{what} did not complete in the replay: {task.Exception?.InnerException?.Message ?? task.Status.ToString()}");
        }
    }
}

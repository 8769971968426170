using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers;
using Gateway.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Scaling;

/// <summary>
/// The scaling loops: every <see cref="TickInterval"/> each ticks the <see cref="ScaleController"/> of one service
/// that has an elastic pool and carries out each action through the pool's <see cref="IPoolScaler"/> before its next
/// tick. It runs on its own timer, off the request path: requests only move the counters the controller reads.
/// Only the leader scales (<see cref="IScalingLeadership"/>); a gateway that becomes leader starts its windows
/// afresh, since what it saw while following was never acted on.
/// </summary>
internal sealed partial class ScalingService(
    GatewayTopology topology,
    GatewayOptions options,
    ReplicaProviders providers,
    IScalingLeadership leadership,
    GatewayMetrics metrics,
    TimeProvider time,
    ILogger<ScalingService> logger) : BackgroundService
{
    /// <summary>Between two ticks: short beside the scale-out window, long beside a tick's cost.</summary>
    internal static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(250);

    private readonly Dictionary<Pool, IPoolScaler> _scalers = [];

    /// <summary>Refuses to start a gateway that was asked to elect a leader but cannot: every replica of it would scale.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Kubernetes.LeaderElection.Enabled && leadership is SoleLeadership)
        {
            throw new InvalidOperationException(
                "Gateway:Kubernetes:LeaderElection:Enabled is true, but the host did not add Kubernetes (AddKubernetes), so every gateway replica would scale");
        }

        return base.StartAsync(cancellationToken);
    }

    /// <summary>
    /// Runs the loops on the caller's thread and synchronization context, for the planner's replay in virtual time:
    /// <see cref="BackgroundService.StartAsync"/> would start them on the thread pool, outside the replay's one thread.
    /// </summary>
    internal Task RunInPlaceAsync(CancellationToken stoppingToken) => ExecuteAsync(stoppingToken);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var elastic = FindScalers();
        var loops = new Task[elastic.Count];
        for (var i = 0; i < loops.Length; i++)
        {
            loops[i] = RunAsync(elastic[i], stoppingToken);
        }

        return Task.WhenAll(loops);
    }

    /// <summary>
    /// One service's loop. Each service has its own, so a scaling call that takes long (a webhook retrying a receiver
    /// that does not answer) holds back only its own service's decisions.
    /// </summary>
    private async Task RunAsync(InferenceService service, CancellationToken stoppingToken)
    {
        ScaleController? controller = null;
        using var timer = new PeriodicTimer(TickInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!leadership.IsLeader)
                {
                    if (controller is not null)
                    {
                        LogLeadershipLost(logger, service.Name);
                        controller.Abandon();
                        controller = null;
                    }

                    continue;
                }

                if (controller is null)
                {
                    LogLeading(logger, service.Name);
                    controller = new ScaleController(service, time, metrics, options.Classes);
                }

                await TickAsync(controller, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The gateway is stopping; the replica providers stop their replicas after this.
        }
    }

    /// <summary>The services with a pool that can be scaled, each pool's scaler noted.</summary>
    private List<InferenceService> FindScalers()
    {
        var elastic = new List<InferenceService>();
        foreach (var service in topology.Services)
        {
            foreach (var pool in service.Pools)
            {
                if (pool.Scaling is null || providers.Find(pool) is not { } provider)
                {
                    continue;
                }

                if (provider.Scaler is { } scaler)
                {
                    _scalers[pool] = scaler;
                    if (!elastic.Contains(service))
                    {
                        elastic.Add(service);
                    }
                }
                else
                {
                    // Validation turns most such pools away; said once here rather than as a failed action every tick.
                    LogNotScalable(logger, service.Name, pool.Name);
                }
            }
        }

        return elastic;
    }

    /// <summary>One tick of one controller, its actions carried out in order: the controller relies on it.</summary>
    private async Task TickAsync(ScaleController controller, CancellationToken stoppingToken)
    {
        var service = controller.Service;
        var demand = ScaleController.Demand(service);

        // A call under way when leadership is lost is cancelled: it fails like any other, and the next tick, no longer
        // leading, abandons the controller.
        using var term = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, leadership.Term);
        foreach (var action in controller.Tick(demand))
        {
            try
            {
                switch (action)
                {
                    case ScaleAction.Add add:
                        LogScalingOut(logger, service.Name, add.Pool.Name, add.Count, add.Pool.DesiredReplicas, demand);

                        // Counts are absolute and include replicas still draining: they hold a pod (a server) until
                        // they are removed, and a scaler that sets a count must not take one of them for a new one.
                        var leaving = controller.LeavingCount(add.Pool);
                        await Scaler(add.Pool).ScaleOutAsync(
                            new ScaleRequest(add.Pool, add.Pool.DesiredReplicas + leaving, add.Pool.DesiredReplicas - add.Count + leaving, $"demand {demand}"),
                            term.Token);
                        break;
                    case ScaleAction.Lower lower:
                        LogLowering(logger, service.Name, lower.Pool.Name, lower.Desired, lower.Current, demand);

                        // The scaler's one call for a count: asked for fewer, a webhook or a scale target stops what has
                        // not come up yet.
                        var draining = controller.LeavingCount(lower.Pool);
                        await Scaler(lower.Pool).ScaleOutAsync(
                            new ScaleRequest(lower.Pool, lower.Desired + draining, lower.Current + draining, $"demand {demand}; lowering a request not yet granted"),
                            term.Token);
                        break;
                    case ScaleAction.Drain drain:
                        LogDraining(logger, service.Name, drain.Replica.Pool.Name, drain.Replica.Id, drain.Replica.Pool.DesiredReplicas, demand);
                        drain.Replica.SetState(ReplicaState.Draining);
                        break;
                    case ScaleAction.Remove remove:
                        LogRemoving(logger, service.Name, remove.Replica.Pool.Name, remove.Replica.Id, remove.Replica.InFlight);

                        // Awaited: the replica leaves the pool at once, but the next tick must not count a replica
                        // whose process is still stopping as one that can be removed again.
                        var pool = remove.Replica.Pool;
                        var after = pool.DesiredReplicas + controller.LeavingCount(pool);
                        await Scaler(pool).ScaleInAsync(
                            remove.Replica,
                            new ScaleRequest(pool, after, after + 1, $"demand {demand}; {remove.Replica.Id} drained"),
                            term.Token);

                        // Then out of rotation for good where someone else stops it later (a ReplicaSet, a webhook's
                        // receiver); it is draining already, and a failed call leaves it to the controller to retry.
                        providers.Find(pool)?.Retire(remove.Replica);
                        break;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // One failed action must not end scaling for every service: the next tick decides again.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogActionFailed(logger, e, service.Name, action.ToString());
                controller.Failed(action);
            }
        }
    }

    private IPoolScaler Scaler(Pool pool) => _scalers[pool];

    [LoggerMessage(EventId = 4000, Level = LogLevel.Information,
        Message = "Scaling out pool {Pool} of service {Service} by {Count} to {Desired} replicas (demand {Demand})")]
    private static partial void LogScalingOut(ILogger logger, string service, string pool, int count, int desired, int demand);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information,
        Message = "Scaling in pool {Pool} of service {Service} to {Desired} replicas: draining {ReplicaId} (demand {Demand})")]
    private static partial void LogDraining(ILogger logger, string service, string pool, string replicaId, int desired, int demand);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information,
        Message = "Removing replica {ReplicaId} of pool {Pool} of service {Service} ({InFlight} requests still in flight)")]
    private static partial void LogRemoving(ILogger logger, string service, string pool, string replicaId, int inFlight);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Information,
        Message = "Lowering the request for pool {Pool} of service {Service} to {Desired} replicas of the {Current} counted, before they all arrived (demand {Demand})")]
    private static partial void LogLowering(ILogger logger, string service, string pool, int desired, int current, int demand);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning,
        Message = "Pool {Pool} of service {Service} has Scaling but nothing can scale it; give it a Process source, a Kubernetes scale target or a webhook")]
    private static partial void LogNotScalable(ILogger logger, string service, string pool);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "Scaling service {Service} failed to carry out {Action}")]
    private static partial void LogActionFailed(ILogger logger, Exception exception, string service, string action);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information, Message = "Leading: scaling the elastic pools of service {Service}")]
    private static partial void LogLeading(ILogger logger, string service);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Information, Message = "No longer the leader: another gateway scales the elastic pools of service {Service}")]
    private static partial void LogLeadershipLost(ILogger logger, string service);
}

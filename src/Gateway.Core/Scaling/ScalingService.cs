using Gateway.Backends;
using Gateway.Hosting;
using Gateway.Routing;
using Gateway.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Scaling;

/// <summary>
/// The scaling loop: every <see cref="TickInterval"/> it ticks one <see cref="ScaleController"/> per service that
/// has an elastic pool and carries out each action on the pool's replica source before the next tick. It runs on
/// its own timer, off the request path: requests only move the counters the controller reads.
/// </summary>
internal sealed partial class ScalingService(
    GatewayTopology topology,
    ReplicaSourcesService sources,
    GatewayMetrics metrics,
    TimeProvider time,
    ILogger<ScalingService> logger) : BackgroundService
{
    /// <summary>Between two ticks: short beside the scale-out window, long beside a tick's cost.</summary>
    internal static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var controllers = new List<ScaleController>();
        foreach (var service in topology.Services)
        {
            foreach (var pool in service.Pools)
            {
                if (pool.Scaling is not null)
                {
                    if (sources.Find(pool) is IScalableReplicaSource)
                    {
                        controllers.Add(new ScaleController(service, time, metrics));
                        break;
                    }

                    // Fixed addresses cannot grow: said once here rather than as a failed action every tick.
                    LogNotScalable(logger, service.Name, pool.Name);
                }
            }
        }

        if (controllers.Count == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TickInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                foreach (var controller in controllers)
                {
                    await TickAsync(controller, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The gateway is stopping; the replica sources stop their replicas after this.
        }
    }

    /// <summary>One tick of one controller, its actions carried out in order: the controller relies on it.</summary>
    private async Task TickAsync(ScaleController controller, CancellationToken stoppingToken)
    {
        var service = controller.Service;
        var demand = ScaleController.Demand(service);
        foreach (var action in controller.Tick(demand))
        {
            try
            {
                switch (action)
                {
                    case ScaleAction.Add add:
                        LogScalingOut(logger, service.Name, add.Pool.Name, add.Count, add.Pool.DesiredReplicas, demand);
                        await Scalable(add.Pool).AddReplicasAsync(add.Count, stoppingToken);
                        break;
                    case ScaleAction.Drain drain:
                        LogDraining(logger, service.Name, drain.Replica.Pool.Name, drain.Replica.Id, drain.Replica.Pool.DesiredReplicas, demand);
                        drain.Replica.SetState(ReplicaState.Draining);
                        break;
                    case ScaleAction.Remove remove:
                        LogRemoving(logger, service.Name, remove.Replica.Pool.Name, remove.Replica.Id, remove.Replica.InFlight);

                        // Awaited: the replica leaves the pool at once, but the next tick must not count a replica
                        // whose process is still stopping as one that can be removed again.
                        await Scalable(remove.Replica.Pool).RemoveReplicaAsync(remove.Replica, stoppingToken);
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
            }
        }
    }

    private IScalableReplicaSource Scalable(Pool pool) =>
        sources.Find(pool) as IScalableReplicaSource
        ?? throw new InvalidOperationException($"Pool {pool.Name} of service {pool.Service.Name} is elastic but its replica source cannot add or remove replicas");

    [LoggerMessage(EventId = 4000, Level = LogLevel.Information,
        Message = "Scaling out pool {Pool} of service {Service} by {Count} to {Desired} replicas (demand {Demand})")]
    private static partial void LogScalingOut(ILogger logger, string service, string pool, int count, int desired, int demand);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information,
        Message = "Scaling in pool {Pool} of service {Service} to {Desired} replicas: draining {ReplicaId} (demand {Demand})")]
    private static partial void LogDraining(ILogger logger, string service, string pool, string replicaId, int desired, int demand);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information,
        Message = "Removing replica {ReplicaId} of pool {Pool} of service {Service} ({InFlight} requests still in flight)")]
    private static partial void LogRemoving(ILogger logger, string service, string pool, string replicaId, int inFlight);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning,
        Message = "Pool {Pool} of service {Service} has Scaling but its replicas are fixed addresses; give it a Process source to make it elastic")]
    private static partial void LogNotScalable(ILogger logger, string service, string pool);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "Scaling service {Service} failed to carry out {Action}")]
    private static partial void LogActionFailed(ILogger logger, Exception exception, string service, string action);
}

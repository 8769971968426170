using Gateway.Admission;
using Gateway.Configuration;
using Gateway.Forwarding;
using Gateway.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting;

/// <summary>
/// Graceful shutdown on SIGTERM or Ctrl+C. It runs before the web server and the replicas stop: readiness
/// fails at once (a load balancer stops sending), queued and new requests get 503 with Retry-After, and
/// answers already in flight (long streams included) get up to the drain timeout to finish; those still running then
/// are ended by the gateway (a stream with the <c>shutting_down</c> error event). Only then does the server stop
/// listening and the replica providers stop their children.
/// </summary>
internal sealed partial class GatewayDrain(
    GatewayTopology topology, ServiceQueues queues, ReplicaForwarder forwarder, GatewayOptions options, TimeProvider time, ILogger<GatewayDrain> logger)
    : IHostedLifecycleService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(500);

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        queues.Close();

        var inFlight = InFlight();
        LogDrainStarted(logger, inFlight);
        var started = time.GetTimestamp();
        var timeout = TimeSpan.FromSeconds(options.DrainTimeoutSeconds);
        try
        {
            while (inFlight > 0 && time.GetElapsedTime(started) < timeout)
            {
                await Task.Delay(PollInterval, time, cancellationToken);
                inFlight = InFlight();
            }
        }
        catch (OperationCanceledException)
        {
            // The host's own shutdown timeout won; stop anyway.
        }

        if (inFlight > 0)
        {
            // Left running, they would hold the server's own stop until the host's shutdown timeout, which then cuts
            // their connections without an error event.
            LogDrainTimedOut(logger, inFlight);
            forwarder.EndAnswersInFlight();
            try
            {
                while (InFlight() > 0)
                {
                    await Task.Delay(PollInterval, time, cancellationToken);
                }
            }
            catch (OperationCanceledException)
            {
                // The host's own shutdown timeout won.
            }
        }
        else
        {
            var seconds = time.GetElapsedTime(started).TotalSeconds;
            LogDrained(logger, seconds);
        }

        // A client whose answer just ended (a stream that began before the drain, on a kept-alive connection that was
        // not told to close) may send its next request at once; for a moment more it gets 503 shutting_down with
        // Connection: close, rather than a connection the server closes under it when it stops listening.
        try
        {
            await Task.Delay(Linger, time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's own shutdown timeout won.
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private int InFlight()
    {
        var total = 0;
        foreach (var service in topology.Services)
        {
            foreach (var pool in service.Pools)
            {
                foreach (var replica in pool.Replicas)
                {
                    total += replica.InFlight;
                }
            }
        }

        return total;
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Draining: new and queued requests get 503; waiting for {InFlight} in-flight answers")]
    private static partial void LogDrainStarted(ILogger logger, int inFlight);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Drained in {Seconds:F1} s")]
    private static partial void LogDrained(ILogger logger, double seconds);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Drain timeout: {InFlight} answers still in flight are ended (streams with a shutting_down event)")]
    private static partial void LogDrainTimedOut(ILogger logger, int inFlight);
}

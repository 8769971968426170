using Gateway.Health;
using Gateway.Model;

namespace Gateway.Providers;

/// <summary>
/// Runs one child process after another for as long as it is wanted: launches it, probes it until it answers or
/// its ready timeout passes, waits for it to exit, takes its replica out of the pool and stops it (SIGTERM, then a
/// kill), and launches it again after 1, 2, 4 … up to 30 s. A process pool's replica slot and a provider pool's
/// stand-in are each run by one; what differs between them (the launch, the address that answers once ready, what
/// the log says) is their <see cref="ISupervisedProcess"/>.
/// </summary>
/// <remarks>
/// One loop owns the current process from launch to exit, so no process is forgotten between a crash, a restart and
/// a stop: whatever way the loop leaves, it stops its process and takes the replica out of the pool.
/// </remarks>
/// <param name="process">What is launched, probed and told of each step.</param>
/// <param name="pool">The pool the process's replica is in while it runs.</param>
/// <param name="probeClient">The client of the readiness probes.</param>
/// <param name="probeTimeout">A probe that takes longer counts as "not ready yet".</param>
/// <param name="readyTimeout">How long a process has, from its launch, to answer.</param>
/// <param name="stopGrace">How long a process has to exit after SIGTERM before it is killed.</param>
/// <param name="time">The clock of the timeouts and the back-off.</param>
internal sealed class ProcessSupervisor(
    ISupervisedProcess process, Pool pool, HttpClient probeClient, TimeSpan probeTimeout, TimeSpan readyTimeout, TimeSpan stopGrace,
    TimeProvider time)
{
    /// <summary>Between two probes of a process that is not ready yet.</summary>
    internal static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(200);

    private static readonly TimeSpan FirstRestartDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRestartDelay = TimeSpan.FromSeconds(30);

    /// <summary>The wait before relaunching after <paramref name="failures"/> failures in a row: 1, 2, 4, … up to 30 s.</summary>
    internal static TimeSpan RestartDelay(int failures)
    {
        var delay = FirstRestartDelay * Math.Pow(2, Math.Min(failures - 1, 16));
        return delay < MaxRestartDelay ? delay : MaxRestartDelay;
    }

    /// <summary>
    /// Launches, supervises and relaunches until <paramref name="stopping"/> is cancelled, then stops the current process
    /// and returns; <paramref name="firstLaunch"/> completes once the first launch is done (or failed, or the loop ended).
    /// <paramref name="killing"/> skips the SIGTERM grace period.
    /// </summary>
    public async Task RunAsync(TaskCompletionSource firstLaunch, CancellationToken stopping, CancellationToken killing)
    {
        var failures = 0;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var child = await process.LaunchAsync(stopping);
                firstLaunch.TrySetResult();
                if (child is not null)
                {
                    try
                    {
                        if (await SuperviseAsync(child, stopping))
                        {
                            failures = 0;
                        }
                    }
#pragma warning disable CA1031 // A bug in supervision must not end the loop: the process is started again like a failed one.
                    catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
#pragma warning restore CA1031
                    {
                        process.SupervisionFailed(child, e);
                    }
                    finally
                    {
                        // Out of the pool first (no new requests), then stopped.
                        pool.RemoveReplica(child.Replica);
                        await child.StopAsync(stopGrace, time, killing);
                        process.Retired(child);
                        child.Dispose();
                    }
                }

                // A process that exited just as the stop began is not started again.
                stopping.ThrowIfCancellationRequested();
                failures++;
                var delay = RestartDelay(failures);
                process.RestartScheduled(delay, failures);
                await Task.Delay(delay, time, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping: the finally block above has already stopped the process.
        }
        finally
        {
            firstLaunch.TrySetResult();
        }
    }

    /// <summary>
    /// Probes until the process answers, then waits for it to exit. Returns whether it had become ready; throws
    /// <see cref="OperationCanceledException"/> when stopping.
    /// </summary>
    private async Task<bool> SuperviseAsync(ReplicaProcess child, CancellationToken stopping)
    {
        var started = time.GetTimestamp();
        var address = process.ReadinessAddress(child.Replica);
        while (true)
        {
            if (child.Exited.IsCompleted)
            {
                process.ExitedBeforeReady(child);
                return false;
            }

            var ready = await HealthProbe.AnswersAsync(probeClient, address, probeTimeout, time, stopping);
            var elapsed = time.GetElapsedTime(started);
            if (ready)
            {
                child.MarkReady();
                process.Ready(child, address, elapsed);
                break;
            }

            if (elapsed >= readyTimeout)
            {
                process.NotReadyInTime(child, address, readyTimeout);
                return false;
            }

            // Wake early when the process exits, so a crash during start-up is seen at once.
            await Task.WhenAny(child.Exited, Task.Delay(ProbeInterval, time, stopping));
            stopping.ThrowIfCancellationRequested();
        }

        await child.Exited.WaitAsync(stopping);
        process.Exited(child);
        return true;
    }
}

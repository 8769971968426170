using System.ComponentModel;
using System.Diagnostics;
using Gateway.Model;
using Microsoft.Extensions.Logging;

namespace Gateway.Providers;

/// <summary>
/// A replica the gateway runs as a child process: its entry in the pool, the process, and the process's output
/// in the gateway's log. Disposing releases the process object; it does not stop the process.
/// </summary>
internal sealed partial class ReplicaProcess : IDisposable
{
    private readonly Process _process;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Until the replica is ready its output is what an operator reads to learn why it does not start; afterwards
    // it is the server's request log, noise at the gateway's level.
    private volatile bool _quiet;

    public ReplicaProcess(Replica replica, Process process, ILogger logger)
    {
        Replica = replica;
        _process = process;
        _logger = logger;
        ProcessId = process.Id;

        // The Exited event, not WaitForExitAsync: the latter also waits for the output pipes to close, which a
        // grandchild that inherited them (a vLLM worker) can hold open long after the replica itself died.
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => _exited.TrySetResult();
        if (process.HasExited)
        {
            _exited.TrySetResult();
        }

        // Read both pipes to the end whatever happens: a child whose pipe fills up blocks on its next write.
        process.OutputDataReceived += OnOutput;
        process.ErrorDataReceived += OnOutput;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The replica in the pool.</summary>
    public Replica Replica { get; }

    /// <summary>The operating-system process id.</summary>
    public int ProcessId { get; }

    /// <summary>Completes when the process has exited.</summary>
    public Task Exited => _exited.Task;

    /// <summary>The exit code, once <see cref="Exited"/> has completed (128 + signal number when a signal ended it).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Puts the replica in service, unless a scale controller began draining it while it was provisioning.</summary>
    public void MarkReady()
    {
        _quiet = true;
        if (Replica.State == ReplicaState.Provisioning)
        {
            Replica.SetState(ReplicaState.Ready);
        }
    }

    /// <summary>
    /// Asks the process to stop with SIGTERM, waits up to <paramref name="grace"/> for it to exit, then kills it
    /// and whatever it started. <paramref name="killNow"/> skips the rest of the wait. Returns once the process
    /// has exited.
    /// </summary>
    public async Task StopAsync(TimeSpan grace, TimeProvider time, CancellationToken killNow)
    {
        // To its process group first (the launcher made it lead one): SIGTERM reaches what a wrapper script started too.
        // Where it leads none, the group does not exist and the process alone is asked.
        if (!Exited.IsCompleted && !killNow.IsCancellationRequested && !OperatingSystem.IsWindows()
            && (NativeMethods.Kill(-ProcessId, NativeMethods.SigTerm) == 0 || NativeMethods.Kill(ProcessId, NativeMethods.SigTerm) == 0))
        {
            try
            {
                await Exited.WaitAsync(grace, time, killNow);
            }
            catch (TimeoutException)
            {
                LogStopTimedOut(_logger, Replica.Id, ProcessId, grace.TotalSeconds);
            }
            catch (OperationCanceledException)
            {
                // The caller gave up on a graceful stop: kill below.
            }
        }

        if (!Exited.IsCompleted)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (Win32Exception)
            {
                // It exited between the check and the kill; Exited completes on its own.
            }
        }

        // SIGKILL cannot be caught or ignored, so this wait ends.
        await Exited;
    }

    public void Dispose() => _process.Dispose();

    private void OnOutput(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is { } line)
        {
            LogOutput(_logger, _quiet ? LogLevel.Debug : LogLevel.Information, Replica.Id, line);
        }
    }

    [LoggerMessage(EventId = 3110, Message = "{ReplicaId}: {Line}")]
    private static partial void LogOutput(ILogger logger, LogLevel level, string replicaId, string line);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Warning,
        Message = "Replica {ReplicaId} (process {ProcessId}) did not exit within {StopTimeoutSeconds} s of SIGTERM; killing it")]
    private static partial void LogStopTimedOut(ILogger logger, string replicaId, int processId, double stopTimeoutSeconds);
}

using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Gateway.Providers;

/// <summary>
/// Starts the gateway's child processes so that none outlives the gateway, whatever way the gateway ends.
/// </summary>
/// <remarks>
/// <para>
/// A normal stop terminates children through the replica provider that started them, and
/// <see cref="AppDomain.ProcessExit"/> kills any left behind. Neither runs when the gateway is SIGKILLed or
/// crashes, so each child is started as <c>setpriv --pdeathsig TERM -- command args…</c>: the kernel sends it
/// SIGTERM the moment its parent goes away.
/// </para>
/// <para>
/// The kernel's "parent" is the <em>thread</em> that forked the child (PR_SET_PDEATHSIG), and .NET forks on the
/// thread that calls <see cref="Process.Start()"/>. A thread-pool thread retires when it has been idle for a
/// while, which would SIGTERM healthy children at a random moment. So every start happens on one dedicated
/// thread that lives as long as the launcher; disposing the launcher ends that thread, which terminates any
/// child still running (and they are killed explicitly as well).
/// </para>
/// <para>
/// Public so that the load-test drills and the test helpers start their children the same way, rather than keep a
/// copy of this class.
/// </para>
/// </remarks>
public sealed partial class ChildProcessLauncher : IDisposable
{
    /// <summary>Where util-linux installs setpriv on every distribution we run on.</summary>
    internal const string SetprivPath = "/usr/bin/setpriv";

    /// <summary>Where util-linux installs setsid, which starts a child as the leader of a process group of its own.</summary>
    internal const string SetsidPath = "/usr/bin/setsid";

    private readonly BlockingCollection<StartRequest> _requests = [];
    private readonly ConcurrentDictionary<Process, byte> _children = new();
    private readonly ILogger<ChildProcessLauncher> _logger;
    private readonly string? _setpriv;
    private readonly Thread _thread;
    private int _disposed;

    /// <summary>
    /// Starts the launcher thread and registers the <see cref="AppDomain.ProcessExit"/> kill. The launcher must live
    /// as long as the children it starts, since its thread is their parent: the gateway's is a singleton from
    /// dependency injection; a program without it passes <c>NullLogger&lt;ChildProcessLauncher&gt;.Instance</c> or
    /// a logger of its own.
    /// </summary>
    /// <param name="logger">Told when setpriv is missing and when leftover children are killed.</param>
    public ChildProcessLauncher(ILogger<ChildProcessLauncher> logger)
    {
        _logger = logger;
        _setpriv = OperatingSystem.IsLinux() && File.Exists(SetprivPath) ? SetprivPath : null;
        if (_setpriv is null)
        {
            LogNoParentDeathSignal(_logger, SetprivPath);
        }

        // Background: the launcher must never keep the gateway alive on its own.
        _thread = new Thread(StartLoop) { IsBackground = true, Name = "Child process launcher" };
        _thread.Start();
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>Whether children get a parent-death signal (setpriv was found).</summary>
    public bool UsesParentDeathSignal => _setpriv is not null;

    /// <summary>
    /// Starts <paramref name="command"/> with <paramref name="arguments"/>, its standard output and error
    /// redirected (the caller must read both, or the child blocks once a pipe is full). The caller owns the
    /// returned process.
    /// </summary>
    /// <remarks>
    /// <paramref name="cancellationToken"/> withdraws a request still waiting for the launcher thread; once the
    /// thread has started the process, the process is returned regardless, so a started child is never lost.
    /// </remarks>
    public Task<Process> StartAsync(string command, IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        StartAsync(command, arguments, ownProcessGroup: false, cancellationToken);

    /// <summary>
    /// Starts <paramref name="command"/> as <see cref="StartAsync(string, IReadOnlyList{string}, CancellationToken)"/>
    /// does; with <paramref name="ownProcessGroup"/> (where setsid exists) it leads a process group of its own whose id
    /// is its process id, so that a signal to the group reaches whatever it starts (the server behind a
    /// <c>bash -c</c> wrapper).
    /// </summary>
    public Task<Process> StartAsync(string command, IReadOnlyList<string> arguments, bool ownProcessGroup, CancellationToken cancellationToken) =>
        StartAsync(command, arguments, ownProcessGroup, environment: null, cancellationToken);

    /// <summary>
    /// Starts <paramref name="command"/> as <see cref="StartAsync(string, IReadOnlyList{string}, bool, CancellationToken)"/>
    /// does, with <paramref name="environment"/> added to the gateway's own environment: the way to hand a child a secret
    /// (an API key), which on its command line any user of the machine could read.
    /// </summary>
    public Task<Process> StartAsync(
        string command, IReadOnlyList<string> arguments, bool ownProcessGroup, IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();

        var info = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (_setpriv is not null)
        {
            info.FileName = _setpriv;
            info.ArgumentList.Add("--pdeathsig");
            info.ArgumentList.Add("TERM");
            info.ArgumentList.Add("--");
            AddCommand(info, command, ownProcessGroup);
        }
        else if (ownProcessGroup && OperatingSystem.IsLinux() && File.Exists(SetsidPath))
        {
            info.FileName = SetsidPath;
            info.ArgumentList.Add("--");
            info.ArgumentList.Add(command);
        }
        else
        {
            info.FileName = command;
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            foreach (var (name, value) in environment)
            {
                info.Environment[name] = value;
            }
        }

        // Continuations run elsewhere: the launcher thread must go straight back to its queue.
        var request = new StartRequest(info, new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously), cancellationToken);
        try
        {
            _requests.Add(request, CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
            // Dispose completed the queue between the check above and the add.
            throw new ObjectDisposedException(nameof(ChildProcessLauncher));
        }

        return request.Started.Task;
    }

    /// <summary>
    /// Ends the launcher thread and kills every child it started that is still running, with its descendants;
    /// further <c>StartAsync</c> calls throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        _requests.CompleteAdding();
        _thread.Join();
        _requests.Dispose();
        KillChildren();
    }

    private void StartLoop()
    {
        foreach (var request in _requests.GetConsumingEnumerable())
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                request.Started.TrySetException(new ObjectDisposedException(nameof(ChildProcessLauncher)));
                continue;
            }

            if (request.CancellationToken.IsCancellationRequested)
            {
                request.Started.TrySetCanceled(request.CancellationToken);
                continue;
            }

            try
            {
                var process = Process.Start(request.Info)
                    ?? throw new InvalidOperationException($"{request.Info.FileName} did not start a process");
                Track(process);
                request.Started.TrySetResult(process);
            }
#pragma warning disable CA1031 // Whatever Process.Start throws belongs to the caller, not to the launcher thread.
            catch (Exception e)
#pragma warning restore CA1031
            {
                request.Started.TrySetException(e);
            }
        }
    }

    private void Track(Process process)
    {
        _children.TryAdd(process, 0);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => _children.TryRemove(process, out _);

        // Exited may have fired before the handler was attached.
        if (process.HasExited)
        {
            _children.TryRemove(process, out _);
        }
    }

    private void OnProcessExit(object? sender, EventArgs e) => KillChildren();

    /// <summary>
    /// The command after setpriv: behind setsid when the child is to lead its own process group. setsid execs the command
    /// in place (the child is not a group leader yet, so it does not fork), so the process id, the parent-death signal
    /// and the pipes stay the command's.
    /// </summary>
    private static void AddCommand(ProcessStartInfo info, string command, bool ownProcessGroup)
    {
        if (ownProcessGroup && File.Exists(SetsidPath))
        {
            info.ArgumentList.Add(SetsidPath);
            info.ArgumentList.Add("--");
        }

        info.ArgumentList.Add(command);
    }

    /// <summary>The last resort: children the providers did not stop die with the gateway.</summary>
    private void KillChildren()
    {
        foreach (var process in _children.Keys)
        {
            try
            {
                if (!process.HasExited)
                {
                    LogKillingLeftover(_logger, process.Id);
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
                // The owner disposed the process object: it had exited and was reaped.
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Exited between the check and the kill.
            }

            _children.TryRemove(process, out _);
        }
    }

    [LoggerMessage(EventId = 3120, Level = LogLevel.Warning,
        Message = "{Setpriv} not found: child processes are started directly and will outlive the gateway if it is killed with SIGKILL or crashes")]
    private static partial void LogNoParentDeathSignal(ILogger logger, string setpriv);

    [LoggerMessage(EventId = 3121, Level = LogLevel.Warning, Message = "Killing child process {ProcessId}, still running as the launcher goes away")]
    private static partial void LogKillingLeftover(ILogger logger, int processId);

    private sealed record StartRequest(ProcessStartInfo Info, TaskCompletionSource<Process> Started, CancellationToken CancellationToken);
}

using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Gateway.Testing;

namespace Gateway.LoadTests.Targets;

/// <summary>
/// A .NET program beside the drill (the gateway host, the simulator) run as a child process that never outlives the
/// drill: stopped with SIGTERM (then SIGKILL) by <see cref="DisposeAsync"/> on the normal end and on Ctrl+C, killed by
/// <see cref="AppDomain.ProcessExit"/> if still running, and sent SIGTERM by the kernel when the drill is killed
/// outright (<c>setpriv --pdeathsig</c>, as the gateway starts its replicas).
/// </summary>
/// <remarks>
/// The kernel sends the parent-death signal when the forking <em>thread</em> ends, and a thread-pool thread may retire
/// at any time; so each child is started from a thread of its own that lives until the child is stopped.
/// </remarks>
internal sealed class ChildProcess : IAsyncDisposable
{
    private const string Setpriv = "/usr/bin/setpriv";

    private readonly Process _process;
    private readonly ManualResetEventSlim _launcherMayEnd;
    private int _disposed;

    private ChildProcess(Process process, ManualResetEventSlim launcherMayEnd, OutputLog output)
    {
        _process = process;
        _launcherMayEnd = launcherMayEnd;
        Output = output;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What the process wrote so far.</summary>
    public OutputLog Output { get; }

    /// <summary>Starts <paramref name="dll"/> (beside the drill) and waits for the line of its output that <paramref name="listening"/> matches.</summary>
    public static async Task<(ChildProcess Child, Match Listening)> StartListeningAsync(string dll, IEnumerable<string> args, Regex listening, TimeSpan timeout)
    {
        var output = new OutputLog();
        var launcherMayEnd = new ManualResetEventSlim();
        try
        {
            var (process, match) = await DotnetProcess.StartListeningAsync(
                () => StartOnOwnThread(DotnetProcess.StartInfo(dll, args), launcherMayEnd), dll, listening, output, timeout);
            return (new ChildProcess(process, launcherMayEnd, output), match);
        }
        catch
        {
            launcherMayEnd.Set();
            throw;
        }
    }

    /// <summary>SIGTERM, then SIGKILL of the whole tree if it has not ended within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
                {
                    await term.WaitForExitAsync(CancellationToken.None);
                }

                using var wait = new CancellationTokenSource(grace);
                try
                {
                    await _process.WaitForExitAsync(wait.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync(CancellationToken.None);
                }
            }
        }
        finally
        {
            AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
            _launcherMayEnd.Set();
            _process.Dispose();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(TimeSpan.FromSeconds(45));

    /// <summary>Peak and current resident set (VmHWM, VmRSS) in MB, or null once the process has ended.</summary>
    public (double PeakMb, double CurrentMb)? Memory()
    {
        try
        {
            double peak = 0, current = 0;
            foreach (var line in File.ReadLines($"/proc/{_process.Id.ToString(CultureInfo.InvariantCulture)}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    peak = Kilobytes(line) / 1024.0;
                }
                else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    current = Kilobytes(line) / 1024.0;
                }
            }

            return (Math.Round(peak, 1), Math.Round(current, 1));
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static long Kilobytes(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    private static Process StartOnOwnThread(ProcessStartInfo info, ManualResetEventSlim mayEnd)
    {
        if (OperatingSystem.IsLinux() && File.Exists(Setpriv))
        {
            string[] wrapper = ["--pdeathsig", "TERM", "--", info.FileName];
            for (var i = wrapper.Length - 1; i >= 0; i--)
            {
                info.ArgumentList.Insert(0, wrapper[i]);
            }

            info.FileName = Setpriv;
        }

        Process? started = null;
        Exception? failed = null;
        using var done = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            try
            {
                started = Process.Start(info);
            }
#pragma warning disable CA1031 // Handed to the caller below.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failed = e;
            }

            done.Set();
            mayEnd.Wait();
        })
        {
            IsBackground = true,
            Name = "Child process launcher",
        };
        thread.Start();
        done.Wait();
        return started ?? throw new InvalidOperationException($"could not start {info.FileName}", failed);
    }

    private void OnProcessExit(object? sender, EventArgs e)
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Disposed meanwhile: it was stopped.
        }
    }
}

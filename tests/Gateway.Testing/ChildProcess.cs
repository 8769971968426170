using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Gateway.Testing;

/// <summary>
/// A program started by <see cref="DotnetProcess"/>, its output captured line by line. It is asked to stop with SIGTERM
/// and killed with its descendants if it does not within a grace period, or killed at once; disposing does one or the
/// other, as the starter chose. What happens when the starter itself dies is the launcher's business.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _name;
    private readonly Regex? _listeningLine;
    private readonly TaskCompletionSource<Match> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeSpan _stopGrace;
    private int _disposed;

    internal ChildProcess(Process process, string name, OutputLog output, Regex? listening, TimeSpan stopGrace)
    {
        _process = process;
        _name = name;
        _listeningLine = listening;
        _stopGrace = stopGrace;
        Output = output;

        // Kept: the process object forgets its id once disposed, and callers look for leftovers by id after that.
        Id = process.Id;

        process.OutputDataReceived += (_, e) => OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Append(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The operating-system process id (the program's own: setpriv execs it in place).</summary>
    public int Id { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>What the process wrote so far, both streams.</summary>
    public OutputLog Output { get; }

    /// <summary>The first line of standard output that matched the starter's pattern.</summary>
    internal Task<Match> Listening => _listening.Task;

    /// <summary>Sends <paramref name="signal"/> (<c>INT</c>, <c>TERM</c>, <c>KILL</c>…) to the process alone, not its children; false if it is gone.</summary>
    public Task<bool> SignalAsync(string signal) => ProcessSignals.SendAsync(Id, signal);

    /// <summary>Waits for the process to exit and for the last of its output, and returns its exit code.</summary>
    /// <exception cref="TimeoutException">It is still running after <paramref name="timeout"/>.</exception>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, then SIGKILL of the whole tree if it has not ended within <paramref name="grace"/>; zero kills at once.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (grace > TimeSpan.Zero && !_process.HasExited && await SignalAsync("TERM"))
        {
            try
            {
                await _process.WaitForExitAsync().WaitAsync(grace);
                return;
            }
            catch (TimeoutException)
            {
                // Killed below.
            }
        }

        await KillAsync();
    }

    /// <summary>Kills the process and its descendants at once (SIGKILL), as a crash would, and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    /// <summary>Stops the process with the grace its starter chose, then releases it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await StopAsync(_stopGrace);
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            if (_listeningLine is not null)
            {
                _listening.TrySetException(new InvalidOperationException($"{_name} exited before listening:\n{Output}"));
            }

            return;
        }

        Output.Append(line);
        if (_listeningLine?.Match(line) is { Success: true } match)
        {
            _listening.TrySetResult(match);
        }
    }
}

using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Testing;

/// <summary>
/// A .NET program built beside the tests (the simulator, the gateway host) run as a real process with its
/// output captured, started either as is or until it prints the line that says it listens.
/// </summary>
public static class DotnetProcess
{
    /// <summary>The <c>dotnet</c> host running the tests, so children run on the same runtime.</summary>
    public static string Host => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>Starts <paramref name="dll"/> (a file beside the tests) with <paramref name="args"/>, every stream redirected.</summary>
    public static Process Start(string dll, IEnumerable<string> args) =>
        Process.Start(StartInfo(dll, args)) ?? throw new InvalidOperationException($"could not start {dll}");

    /// <summary>How <see cref="Start"/> runs <paramref name="dll"/>, for a caller that wraps the command (e.g. in <c>setpriv</c>).</summary>
    public static ProcessStartInfo StartInfo(string dll, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(Host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    /// <summary>
    /// Starts <paramref name="dll"/> and waits until a line of its standard output matches <paramref name="listening"/>;
    /// everything it writes, then and later, goes to <paramref name="output"/>. On failure the process is killed.
    /// </summary>
    public static Task<(Process Process, Match Listening)> StartListeningAsync(
        string dll, IEnumerable<string> args, Regex listening, OutputLog output, TimeSpan timeout) =>
        StartListeningAsync(() => Start(dll, args), dll, listening, output, timeout);

    /// <summary>
    /// As <see cref="StartListeningAsync(string, IEnumerable{string}, Regex, OutputLog, TimeSpan)"/>, with the process
    /// started by <paramref name="start"/> (every stream redirected); <paramref name="name"/> names it in errors.
    /// </summary>
    public static async Task<(Process Process, Match Listening)> StartListeningAsync(
        Func<Process> start, string name, Regex listening, OutputLog output, TimeSpan timeout)
    {
        var dll = name;
        var process = start();
        var matched = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                matched.TrySetException(new InvalidOperationException($"{dll} exited before listening:\n{output}"));
                return;
            }

            output.Append(e.Data);
            var match = listening.Match(e.Data);
            if (match.Success)
            {
                matched.TrySetResult(match);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Append(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            return (process, await matched.Task.WaitAsync(timeout));
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }
}

/// <summary>What a process wrote, line by line, safe to read while it is still writing.</summary>
public sealed class OutputLog
{
    private readonly StringBuilder _lines = new();

    public void Append(string line)
    {
        lock (_lines)
        {
            _lines.AppendLine(line);
        }
    }

    public override string ToString()
    {
        lock (_lines)
        {
            return _lines.ToString();
        }
    }
}

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
    public static Process Start(string dll, IEnumerable<string> args)
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

        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {dll}");
    }

    /// <summary>
    /// Starts <paramref name="dll"/> and waits until a line of its standard output matches <paramref name="listening"/>;
    /// everything it writes, then and later, goes to <paramref name="output"/>. On failure the process is killed.
    /// </summary>
    public static async Task<(Process Process, Match Listening)> StartListeningAsync(
        string dll, IEnumerable<string> args, Regex listening, OutputLog output, TimeSpan timeout)
    {
        var process = Start(dll, args);
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

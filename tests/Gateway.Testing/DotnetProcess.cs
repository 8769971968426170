using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Gateway.Providers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Testing;

/// <summary>
/// A .NET program built beside the tests or the drills (the simulator, the gateway host, the drill program) run as a
/// real process. Every one is started by the gateway's own <see cref="ChildProcessLauncher"/>, so none outlives the
/// test host or the drill that started it, even one killed with SIGKILL.
/// </summary>
public static class DotnetProcess
{
    /// <summary>The <c>dotnet</c> host running the tests, so children run on the same runtime.</summary>
    public static string Host => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>
    /// The launcher of every child of this process. Never disposed: its thread is the children's parent for the
    /// kernel's parent-death signal, so it must outlive them all, and its ProcessExit handler kills any left behind.
    /// </summary>
    public static ChildProcessLauncher Launcher { get; } = new(NullLogger<ChildProcessLauncher>.Instance);

    /// <summary>
    /// Starts <paramref name="dll"/> (a file beside the tests) with <paramref name="args"/>, standard output and error
    /// redirected for the caller to read (both, or the child blocks once a pipe is full).
    /// </summary>
    public static Process Start(string dll, IEnumerable<string> args) =>
        // Blocking is for callers that read the pipes themselves; it waits only for the launcher thread to fork.
        StartProcessAsync(dll, args).GetAwaiter().GetResult();

    /// <summary>Starts <paramref name="dll"/> with <paramref name="args"/>, everything it writes going to <see cref="ChildProcess.Output"/>.</summary>
    /// <param name="dll">A file beside the tests or the drill.</param>
    /// <param name="args">Its command line.</param>
    /// <param name="output">Where its output goes; a new log when null.</param>
    /// <param name="stopGrace">How long disposing it waits after SIGTERM before SIGKILL; zero kills at once.</param>
    public static async Task<ChildProcess> StartAsync(string dll, IEnumerable<string> args, OutputLog? output = null, TimeSpan stopGrace = default) =>
        new(await StartProcessAsync(dll, args), dll, output ?? new OutputLog(), listening: null, stopGrace);

    /// <summary>
    /// Starts <paramref name="dll"/> and waits until a line of its standard output matches <paramref name="listening"/>;
    /// everything it writes, then and later, goes to <see cref="ChildProcess.Output"/>. On failure the process is killed.
    /// </summary>
    /// <param name="dll">A file beside the tests or the drill.</param>
    /// <param name="args">Its command line.</param>
    /// <param name="listening">The line that says it is ready, whose groups usually hold its addresses.</param>
    /// <param name="timeout">How long to wait for that line.</param>
    /// <param name="output">Where its output goes; a new log when null.</param>
    /// <param name="stopGrace">How long disposing it waits after SIGTERM before SIGKILL; zero kills at once.</param>
    /// <param name="environment">Variables added to this process's own for it (the <c>OTEL_*</c> ones, say); none when null.</param>
    public static async Task<(ChildProcess Child, Match Listening)> StartListeningAsync(
        string dll, IEnumerable<string> args, Regex listening, TimeSpan timeout, OutputLog? output = null, TimeSpan stopGrace = default,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var child = new ChildProcess(await StartProcessAsync(dll, args, environment), dll, output ?? new OutputLog(), listening, stopGrace);
        try
        {
            return (child, await child.Listening.WaitAsync(timeout));
        }
        catch
        {
            await child.KillAsync();
            await child.DisposeAsync();
            throw;
        }
    }

    private static Task<Process> StartProcessAsync(string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        Launcher.StartAsync(Host, [Path.Combine(AppContext.BaseDirectory, dll), .. args], ownProcessGroup: false, environment, CancellationToken.None);
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

using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Gateway.Testing;

/// <summary>
/// A program from a Debian package, installed by the test run itself (apt-get, as root or through <c>sudo -n</c>) where
/// it is not found, so that <c>dotnet test Gateway.sln</c> passes on a machine that has only the .NET SDK: promtool, the
/// dashboard tests' Chromium, the manifest tests' kubectl. Each package is installed at most once per test process.
/// </summary>
public static class DebianPackage
{
    // A slow mirror takes minutes; a hung one must not hang the run.
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(10);

    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> Installed = new();

    /// <summary>
    /// The path of <paramref name="program"/> (in /usr/bin or on the PATH), after installing <paramref name="package"/>
    /// when it is missing, without its recommends unless <paramref name="withRecommends"/>. Fails with the commands and
    /// their output when it cannot be installed.
    /// </summary>
    public static Task<string> EnsureAsync(string package, string program, bool withRecommends = false) =>
        Installed.GetOrAdd(
            package,
            _ => new Lazy<Task<string>>(() => InstallIfMissingAsync(package, program, withRecommends), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    private static async Task<string> InstallIfMissingAsync(string package, string program, bool withRecommends)
    {
        if (Find(program) is { } found)
        {
            return found;
        }

        // sudo -n fails rather than waits for a password; env passes the variable sudo would reset. Lock::Timeout waits
        // for an apt that holds the dpkg lock (unattended upgrades, another test run) rather than failing on it.
        string[] asRoot = Environment.IsPrivilegedProcess ? [] : ["sudo", "-n"];
        string[][] commands =
        [
            [.. asRoot, "apt-get", "-o", "DPkg::Lock::Timeout=600", "update"],
            [
                .. asRoot, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y",
                .. withRecommends ? Array.Empty<string>() : ["--no-install-recommends"], package,
            ],
        ];
        var failure = $"This test needs `{program}` from Debian's {package} package; " +
            $"`{string.Join(" && ", commands.Select(c => string.Join(' ', c)))}` could not install it";

        var output = new StringBuilder();
        using var timeout = new CancellationTokenSource(InstallTimeout);
        foreach (var command in commands)
        {
            var (exitCode, text) = await RunAsync(command, output, timeout.Token);
            if (exitCode != 0)
            {
                throw new InvalidOperationException($"{failure}: `{string.Join(' ', command)}` exited with code {exitCode}.\n{text}");
            }
        }

        return Find(program) ?? throw new InvalidOperationException($"{failure}: apt-get succeeded and left no {program}.\n{output}");
    }

    /// <summary>
    /// Runs <paramref name="command"/> to its end with nothing on its input, in <paramref name="workingDirectory"/> (else
    /// the test's), collecting its output and error lines into <paramref name="output"/>; its exit code and everything
    /// collected so far.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(
        string[] command, StringBuilder output, CancellationToken cancellationToken, string? workingDirectory = null)
    {
        lock (output)
        {
            output.AppendLine("$ " + string.Join(' ', command));
        }

        // Started directly, not through the tests' launcher: that one kills its children when the test host dies, and a
        // dpkg killed halfway leaves the machine's packages half configured.
        using var process = new Process
        {
            StartInfo = new ProcessStartInfo(command[0], command[1..])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = workingDirectory ?? "",
            },
        };
        DataReceivedEventHandler append = (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            }
        };
        process.OutputDataReceived += append;
        process.ErrorDataReceived += append;
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"`{command[0]}` could not be started ({e.Message}).\n{Text(output)}", e);
        }

        // Nothing will answer: a program that asks a question must fail, not wait.
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"`{string.Join(' ', command)}` did not finish in time and was stopped.\n{Text(output)}");
        }

        // The exit is seen before the last lines are read; waiting without a timeout drains them.
        await process.WaitForExitAsync(CancellationToken.None);
        return (process.ExitCode, Text(output));
    }

    private static string? Find(string program)
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Prepend("/usr/bin"))
        {
            var candidate = Path.Combine(folder, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}

using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Gateway.IntegrationTests.Support;

/// <summary>
/// Debian's <c>chromium</c> package, installed by the test run itself where no Chromium is found, so that
/// <c>dotnet test Gateway.sln</c> passes on a machine that has only the .NET SDK. Installed at most once per test
/// process: browser tests that run side by side wait on the same install.
/// </summary>
internal static class ChromiumInstallation
{
    private const string DebianExecutable = "/usr/bin/chromium";

    // Chromium and its hundred dependencies take minutes from a slow mirror; a hung mirror must not hang the run.
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(10);

    private static readonly Lazy<Task<string>> Installed = new(InstallIfMissingAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// The browser's executable: Debian's <c>/usr/bin/chromium</c>, or <c>chromium</c> on the PATH, installed with apt-get
    /// first when there is neither. Fails with the commands and their output when it cannot be installed.
    /// </summary>
    public static Task<string> EnsureAsync() => Installed.Value;

    private static async Task<string> InstallIfMissingAsync()
    {
        if (Find() is { } found)
        {
            return found;
        }

        // Through sudo when not root (-n: fail rather than wait for a password nobody will type), and the variable
        // through env because sudo resets the environment. Lock::Timeout: an apt that holds the dpkg lock (unattended
        // upgrades, another test run) is waited for rather than failed on.
        string[] asRoot = Environment.IsPrivilegedProcess ? [] : ["sudo", "-n"];
        string[][] commands =
        [
            [.. asRoot, "apt-get", "-o", "DPkg::Lock::Timeout=600", "update"],
            [.. asRoot, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "chromium"],
        ];
        var failure = $"The dashboard's browser tests need Debian's Chromium at {DebianExecutable}; " +
            $"`{string.Join(" && ", commands.Select(c => string.Join(' ', c)))}` could not install it";

        var output = new StringBuilder();
        using var timeout = new CancellationTokenSource(InstallTimeout);
        foreach (var command in commands)
        {
            await RunAsync(command, failure, output, timeout.Token);
        }

        return Find() ?? throw new InvalidOperationException($"{failure}: apt-get succeeded and left no {DebianExecutable}.\n{Text(output)}");
    }

    private static string? Find()
    {
        if (File.Exists(DebianExecutable))
        {
            return DebianExecutable;
        }

        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, "chromium");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static async Task RunAsync(string[] command, string failure, StringBuilder output, CancellationToken timeout)
    {
        var line = string.Join(' ', command);
        lock (output)
        {
            output.AppendLine("$ " + line);
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
            throw new InvalidOperationException($"{failure}: `{command[0]}` could not be started ({e.Message}).\n{Text(output)}", e);
        }

        // Nothing will answer: an install that asks a question must fail, not wait.
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(timeout);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"{failure}: it did not finish within {InstallTimeout.TotalMinutes} minutes, `{line}` was stopped.\n{Text(output)}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{failure}: `{line}` exited with code {process.ExitCode}.\n{Text(output)}");
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}

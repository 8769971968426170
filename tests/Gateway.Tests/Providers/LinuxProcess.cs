namespace Gateway.Tests.Providers;

/// <summary>What the kernel says about a process, read from <c>/proc</c>.</summary>
internal static class LinuxProcess
{
    /// <summary>
    /// Whether <paramref name="processId"/> is still running. A zombie counts as gone: it has exited and only waits
    /// for a parent to reap it, which an orphan's new parent (a container's PID 1) may never do.
    /// </summary>
    public static bool IsRunning(int processId)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{processId}/stat");
        }
        catch (IOException)
        {
            return false;
        }

        // pid (comm) state ...: comm may hold spaces and parentheses, so the state follows the last ')'.
        var state = stat[(stat.LastIndexOf(')') + 2)..][0];
        return state is not ('Z' or 'X');
    }

    /// <summary>The parent's process id.</summary>
    public static int ParentOf(int processId) =>
        int.Parse(File.ReadAllLines($"/proc/{processId}/status").First(l => l.StartsWith("PPid:", StringComparison.Ordinal))[5..].Trim(),
            System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The command line, arguments joined by spaces.</summary>
    public static string CommandLine(int processId) =>
        File.ReadAllText($"/proc/{processId}/cmdline").Replace('\0', ' ').TrimEnd();

    /// <summary>Waits until the process is gone, failing after <paramref name="timeout"/>.</summary>
    public static Task WaitUntilGoneAsync(int processId, TimeSpan timeout) =>
        Gateway.Testing.Eventually.WaitAsync(() => Task.FromResult(IsRunning(processId)), running => !running, timeout, $"process {processId} ending");
}

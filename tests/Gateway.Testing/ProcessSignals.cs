using System.Diagnostics;
using System.Globalization;

namespace Gateway.Testing;

/// <summary>Sends a signal to any process by id, as <c>kill -SIGNAL PID</c> does: a crash, a stall, a shutdown on demand.</summary>
public static class ProcessSignals
{
    /// <summary>Sends <paramref name="signal"/> (<c>INT</c>, <c>TERM</c>, <c>KILL</c>, <c>STOP</c>, <c>CONT</c>…) to <paramref name="pid"/> alone, not its children; false if it is gone.</summary>
    public static async Task<bool> SendAsync(int pid, string signal)
    {
        // kill(1) is started directly, not through the launcher: it ends at once and starts nothing.
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        return kill.ExitCode == 0;
    }
}

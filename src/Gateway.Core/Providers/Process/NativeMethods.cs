using System.Runtime.InteropServices;

namespace Gateway.Providers;

/// <summary>
/// The one POSIX call .NET lacks here: <see cref="System.Diagnostics.Process.Kill()"/> only sends SIGKILL, and a
/// replica stopping on SIGTERM gets to finish its requests and free its GPU memory cleanly.
/// </summary>
internal static class NativeMethods
{
    /// <summary>SIGTERM: asks a process to stop.</summary>
    internal const int SigTerm = 15;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="processId"/>; 0 on success, -1 with errno set otherwise.</summary>
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    internal static extern int Kill(int processId, int signal);
}

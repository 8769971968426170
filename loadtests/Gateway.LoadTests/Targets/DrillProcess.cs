using System.Globalization;
using System.Text.RegularExpressions;
using Gateway.Testing;

namespace Gateway.LoadTests.Targets;

/// <summary>
/// A .NET program beside the drill (the gateway host, the simulator) run as a child process that never outlives the
/// drill. Disposing it on the normal end and on Ctrl+C (the drill's token) sends SIGTERM, then SIGKILL to its tree
/// after <see cref="StopGrace"/>. The rest is the gateway's own <see cref="Gateway.Providers.ChildProcessLauncher"/>,
/// which <see cref="DotnetProcess"/> starts every child with: it kills what is left when the drill exits, and the
/// kernel sends the child SIGTERM when the drill is killed outright (<c>setpriv --pdeathsig</c>).
/// </summary>
internal static class DrillProcess
{
    /// <summary>Long enough for a gateway to finish its calls and stop the replicas it started.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(45);

    /// <summary>Starts <paramref name="dll"/> (beside the drill) and waits for the line of its output that <paramref name="listening"/> matches.</summary>
    public static Task<(ChildProcess Child, Match Listening)> StartListeningAsync(string dll, IEnumerable<string> args, Regex listening, TimeSpan timeout) =>
        DotnetProcess.StartListeningAsync(dll, args, listening, timeout, stopGrace: StopGrace);

    /// <summary>Peak and current resident set (VmHWM, VmRSS) in MB, or null once the process has ended.</summary>
    public static (double PeakMb, double CurrentMb)? Memory(this ChildProcess process)
    {
        try
        {
            double peak = 0, current = 0;
            foreach (var line in File.ReadLines($"/proc/{process.Id.ToString(CultureInfo.InvariantCulture)}/status"))
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
}

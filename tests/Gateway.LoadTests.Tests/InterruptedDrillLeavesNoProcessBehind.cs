using System.Globalization;
using System.Text.RegularExpressions;
using Gateway.LoadTests.Tests.Support;
using Gateway.Testing;

namespace Gateway.LoadTests.Tests;

/// <summary>
/// Ctrl+C in the middle of a peak: the drill stops the gateway it started, which stops its replica, and exits with 130;
/// no process of the drill is left behind.
/// </summary>
public sealed partial class InterruptedDrillLeavesNoProcessBehind
{
    [Fact]
    public async Task SigintDuringThePeak_StopsTheGatewayAndItsReplica_Exit130()
    {
        using var run = new DrillRun();
        await using var drill = await run.StartAsync("peak", "--short", "--duration", "60s", "--report", run.ReportPath);
        var started = await Eventually.WaitAsync(
            () => Task.FromResult(GatewayPid().Match(run.Output.ToString())), m => m.Success || drill.HasExited, TimeSpan.FromSeconds(60), "the drill to start its gateway");
        Assert.True(started.Success, run.Output.ToString());
        var gateway = int.Parse(started.Groups[1].Value, CultureInfo.InvariantCulture);
        var replicas = Children(gateway);
        Assert.NotEmpty(replicas);
        await Eventually.WaitAsync(
            () => Task.FromResult(run.Output.ToString()), o => o.Contains("[peak] peak:", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the peak to begin");

        Assert.True(await drill.SignalAsync("INT"));

        Assert.Equal(130, await drill.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.False(File.Exists(run.ReportPath));
        foreach (var pid in replicas.Append(gateway))
        {
            await Eventually.WaitAsync(() => Task.FromResult(IsAlive(pid)), alive => !alive, TimeSpan.FromSeconds(10), $"process {pid} to end");
        }
    }

    private static List<int> Children(int pid)
    {
        var children = new List<int>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task"))
        {
            try
            {
                var text = File.ReadAllText(Path.Combine(task, "children"));
                children.AddRange(text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)));
            }
            catch (IOException)
            {
                // That thread ended meanwhile; a child is listed under the thread that started it, which lives on.
            }
        }

        return children;
    }

    // A zombie (exited, not yet reaped) counts as gone: it runs nothing and holds no port.
    private static bool IsAlive(int pid)
    {
        var status = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status";
        try
        {
            return File.Exists(status) && !File.ReadAllText(status).Contains("State:\tZ", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"\[peak\] gateway pid (\d+)")]
    private static partial Regex GatewayPid();
}

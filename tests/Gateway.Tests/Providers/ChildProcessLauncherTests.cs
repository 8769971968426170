using System.Diagnostics;
using System.Globalization;
using Gateway.Providers;
using Gateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Providers;

public sealed class ChildProcessLauncherTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task StartAsync_OnLinux_ChildRunsWithParentDeathSignalTerm()
    {
        using var launcher = new ChildProcessLauncher(NullLogger<ChildProcessLauncher>.Instance);

        // setpriv --dump reports the parent-death signal of the process it runs in: the child itself.
        using var child = await launcher.StartAsync("setpriv", ["--dump"], CancellationToken.None);
        var dump = await child.StandardOutput.ReadToEndAsync();
        await child.WaitForExitAsync();

        Assert.True(launcher.UsesParentDeathSignal);
        Assert.Contains("Parent death signal: TERM", dump.Split('\n'));
        Assert.Equal(0, child.ExitCode);
    }

    [Fact]
    public async Task StartAsync_CalledFromAThreadThatExits_ChildOutlivesTheThread()
    {
        // The premise: a child with a parent-death signal started on a thread dies when that thread exits.
        var direct = StartOnShortLivedThread(() => Process.Start("/usr/bin/setpriv", ["--pdeathsig", "TERM", "--", "sleep", "300"]));
        await LinuxProcess.WaitUntilGoneAsync(direct.Id, Deadline);
        direct.Dispose();

        // The launcher starts on its own thread, so the caller's thread ending does not matter.
        using var launcher = new ChildProcessLauncher(NullLogger<ChildProcessLauncher>.Instance);
        using var child = StartOnShortLivedThread(() => launcher.StartAsync("sleep", ["300"], CancellationToken.None).GetAwaiter().GetResult());
        try
        {
            // The direct child above died within milliseconds of its thread; a second is a wide margin.
            await Assert.ThrowsAsync<TimeoutException>(() => child.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(1)));
            Assert.True(LinuxProcess.IsRunning(child.Id));
        }
        finally
        {
            child.Kill();
        }
    }

    [Fact]
    public async Task LaunchingParent_KilledWithSigkill_ChildDiesToo()
    {
        using var parent = LaunchingParent.Start("sleep", "300");
        var line = await parent.StandardOutput.ReadLineAsync().WaitAsync(Deadline)
            ?? throw new InvalidOperationException("the launching parent exited without starting its child");
        var childId = int.Parse(line, CultureInfo.InvariantCulture);
        try
        {
            // Once setpriv has become sleep, the parent-death signal is set.
            await WaitUntilSleeping(childId);
            Assert.True(LinuxProcess.IsRunning(childId));
            Assert.Equal(parent.Id, LinuxProcess.ParentOf(childId));

            // SIGKILL: no ProcessExit handler, no finally block runs in the parent; only the kernel can help.
            parent.Kill();
            await parent.WaitForExitAsync();

            await LinuxProcess.WaitUntilGoneAsync(childId, TimeSpan.FromSeconds(5));
        }
        finally
        {
            if (LinuxProcess.IsRunning(childId))
            {
                Process.GetProcessById(childId).Kill();
            }
        }
    }

    [Fact]
    public async Task Dispose_ChildStillRunning_KillsIt()
    {
        var launcher = new ChildProcessLauncher(NullLogger<ChildProcessLauncher>.Instance);
        using var child = await launcher.StartAsync("sleep", ["300"], CancellationToken.None);

        launcher.Dispose();

        await child.WaitForExitAsync().WaitAsync(Deadline);
        Assert.False(LinuxProcess.IsRunning(child.Id));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => launcher.StartAsync("sleep", ["300"], CancellationToken.None));
    }

    /// <summary>
    /// Starts a process on a new thread that ends once the process runs <c>sleep</c>: setpriv sets the parent-death
    /// signal after it starts and before it execs the command, so a thread ending earlier would not be noticed.
    /// </summary>
    private static Process StartOnShortLivedThread(Func<Process?> start)
    {
        Process? process = null;
        var thread = new Thread(() =>
        {
            process = start();
            if (process is not null)
            {
                WaitUntilSleeping(process.Id).GetAwaiter().GetResult();
            }
        });
        thread.Start();
        thread.Join();
        return process ?? throw new InvalidOperationException("no process started");
    }

    private static Task<string> WaitUntilSleeping(int processId) =>
        Eventually.WaitAsync(() => Task.FromResult(LinuxProcess.CommandLine(processId)), c => c == "sleep 300", Deadline, $"process {processId} running sleep");
}

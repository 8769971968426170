using System.Diagnostics;
using System.Globalization;
using System.Net;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers;
using Gateway.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Gateway.Tests.Providers;

public sealed class ProcessReplicaProviderTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly string DotnetHost = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    [Fact]
    public async Task StartAsync_TwoSimulatorReplicas_BothReadyOnDistinctPortsAndProcesses()
    {
        await using var harness = new Harness(output, Simulator(replicas: 2));

        await harness.Source.StartAsync(CancellationToken.None);

        // Started, not yet ready: StartAsync does not wait for /health.
        Assert.Equal(["cloud-1", "cloud-2"], harness.Pool.Replicas.Select(r => r.Id));
        Assert.All(harness.Pool.Replicas, r => Assert.Equal(ReplicaState.Provisioning, r.State));

        await harness.WaitUntilReadyAsync(2);
        var replicas = harness.Pool.Replicas;
        Assert.Equal(2, replicas.Count);
        Assert.NotEqual(replicas[0].Address.Port, replicas[1].Address.Port);
        Assert.NotEqual(replicas[0].ProcessId, replicas[1].ProcessId);
        foreach (var replica in replicas)
        {
            Assert.Equal(ReplicaState.Ready, replica.State);
            Assert.Equal("127.0.0.1", replica.Address.Host);
            Assert.Equal(HttpStatusCode.OK, await harness.HealthAsync(replica));
            using var models = await harness.Client.GetAsync(new Uri(replica.Address, "v1/models"));
            Assert.Equal(HttpStatusCode.OK, models.StatusCode);

            // The process id is the simulator itself (setpriv execs it), serving the port it was given.
            var pid = replica.ProcessId!.Value;
            Assert.Equal(
                $"{DotnetHost} {SimulatorProcess.DllPath} --port {replica.Address.Port.ToString(CultureInfo.InvariantCulture)}",
                LinuxProcess.CommandLine(pid));
            Assert.Equal(Environment.ProcessId, LinuxProcess.ParentOf(pid));
        }
    }

    [Fact]
    public async Task StartAsync_PortRange_GivesEachReplicaTheLowestPortOfTheRangeNothingHolds()
    {
        // Below Linux's ephemeral range (32768 and up), where the other tests' ports come from; the first port of the
        // range is held by something else.
        var first = Random.Shared.Next(20_000, 30_000);
        using var squatter = new System.Net.Sockets.TcpListener(IPAddress.Loopback, first);
        squatter.Start();
        var options = Simulator(replicas: 2);
        (options.FirstPort, options.LastPort) = (first, first + 2);
        await using var harness = new Harness(output, options);

        await harness.Source.StartAsync(CancellationToken.None);
        await harness.WaitUntilReadyAsync(2);

        // Each launched once, on its own port: two slots starting at once must not both pick first + 1. Which slot
        // joins the pool first is a race, so the ports are compared in order of port.
        Assert.Equal([first + 1, first + 2], harness.Pool.Replicas.Select(r => r.Address.Port).Order());
        Assert.Equal(2, harness.Logger.Entries.Count(e => e.EventId == 3100));
        Assert.DoesNotContain(harness.Logger.Entries, e => e.EventId == 3105);
    }

    [Fact]
    public async Task StartAsync_SlowStartingReplica_StaysProvisioningUntilHealthAnswers200()
    {
        await using var harness = new Harness(output, Simulator(replicas: 1, "--startup-duration", "2"));
        var clock = Stopwatch.StartNew();

        await harness.Source.StartAsync(CancellationToken.None);
        var replica = Assert.Single(harness.Pool.Replicas);

        // The process is up and answering, but not ready yet: the replica must not take requests.
        await Eventually.WaitAsync(() => harness.HealthAsync(replica), s => s == HttpStatusCode.ServiceUnavailable, Deadline, "/health answering 503");
        Assert.Equal(ReplicaState.Provisioning, replica.State);

        await Eventually.WaitAsync(() => Task.FromResult(replica.State), s => s == ReplicaState.Ready, Deadline, "replica ready");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2), $"ready after {clock.Elapsed}, before the 2 s start-up ended");
        Assert.Equal(HttpStatusCode.OK, await harness.HealthAsync(replica));
        Assert.Same(replica, Assert.Single(harness.Pool.Replicas));
    }

    [Fact]
    public async Task ReplicaProcessKilled_IsRemovedAndReplacedByANewReadyProcess()
    {
        await using var harness = new Harness(output, Simulator(replicas: 1));
        await harness.Source.StartAsync(CancellationToken.None);
        await harness.WaitUntilReadyAsync(1);
        var crashed = Assert.Single(harness.Pool.Replicas);
        var crashedPid = crashed.ProcessId!.Value;

        using (var process = Process.GetProcessById(crashedPid))
        {
            process.Kill();
        }

        await Eventually.WaitAsync(() => Task.FromResult(harness.Pool.Replicas.Contains(crashed)), present => !present, Deadline, "crashed replica removed");
        Assert.Equal(ReplicaState.Stopped, crashed.State);

        var replacement = await Eventually.WaitAsync(
            () => Task.FromResult(harness.Pool.Replicas.SingleOrDefault()),
            r => r is { State: ReplicaState.Ready },
            Deadline,
            "replacement ready");
        // Usually cloud-2; a later one if another program took a chosen port first and the launch was retried.
        Assert.NotSame(crashed, replacement);
        Assert.NotEqual(crashedPid, replacement!.ProcessId);
        Assert.Equal(HttpStatusCode.OK, await harness.HealthAsync(replacement));
        Assert.Contains(harness.Logger.Entries, e => e.EventId == 3105 && e.Message == $"Replica cloud-1 (process {crashedPid}) exited with code 137");
    }

    [Fact]
    public async Task ReplicaNotReadyInTime_IsStoppedAndReplaced()
    {
        var options = Simulator(replicas: 1, "--startup-duration", "600");
        options.ReadyTimeoutSeconds = 1;
        await using var harness = new Harness(output, options);
        await harness.Source.StartAsync(CancellationToken.None);
        var first = Assert.Single(harness.Pool.Replicas);
        var firstPid = first.ProcessId!.Value;

        var replacement = await Eventually.WaitAsync(
            () => Task.FromResult(harness.Pool.Replicas.SingleOrDefault()),
            r => r is { Id: "cloud-2" },
            Deadline,
            "replacement launched");

        Assert.Equal(ReplicaState.Stopped, first.State);
        Assert.False(LinuxProcess.IsRunning(firstPid));
        Assert.NotEqual(firstPid, replacement!.ProcessId);
        Assert.Contains(harness.Logger.Entries, e => e.EventId == 3103 && e.Message == $"Replica cloud-1 (process {firstPid}) was not ready within 1 s; replacing it");
    }

    [Fact]
    public async Task AddReplicasAsync_FromZero_AddsThatManyProvisioningReplicasThatBecomeReady()
    {
        await using var harness = new Harness(output, Simulator(replicas: 0));
        await harness.Source.StartAsync(CancellationToken.None);
        Assert.Empty(harness.Pool.Replicas);

        await harness.Source.AddReplicasAsync(2, CancellationToken.None);

        Assert.Equal(["cloud-1", "cloud-2"], harness.Pool.Replicas.Select(r => r.Id));
        await harness.WaitUntilReadyAsync(2);
        Assert.NotEqual(harness.Pool.Replicas[0].ProcessId, harness.Pool.Replicas[1].ProcessId);
    }

    [Fact]
    public async Task RemoveReplicaAsync_ReadyReplica_StopsItsProcessWithSigtermAndDoesNotReplaceIt()
    {
        await using var harness = new Harness(output, Simulator(replicas: 2));
        await harness.Source.StartAsync(CancellationToken.None);
        await harness.WaitUntilReadyAsync(2);
        var (kept, removed) = (harness.Pool.Replicas[0], harness.Pool.Replicas[1]);
        var launches = harness.Logger.Entries.Count(e => e.EventId == 3100);

        await harness.Source.RemoveReplicaAsync(removed, CancellationToken.None);

        Assert.Equal(ReplicaState.Stopped, removed.State);
        Assert.False(LinuxProcess.IsRunning(removed.ProcessId!.Value));
        Assert.Same(kept, Assert.Single(harness.Pool.Replicas));
        Assert.DoesNotContain(harness.Logger.Entries, e => e.EventId == 3111);

        // Longer than the first restart back-off (1 s): a replacement would have been launched by now.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal(launches, harness.Logger.Entries.Count(e => e.EventId == 3100));
        Assert.Same(kept, Assert.Single(harness.Pool.Replicas));
        Assert.Equal(ReplicaState.Ready, kept.State);
    }

    [Fact]
    public async Task StopAsync_ReplicaBehindAShellWrapper_StopsWhatTheWrapperStartedToo()
    {
        // A wrapper that starts the real server in the background and waits: SIGTERM to the wrapper alone would leave
        // the server running, orphaned. The server here is a sleep whose pid the wrapper writes down.
        var pidFile = Path.Combine(Path.GetTempPath(), $"gateway-wrapper-{Guid.NewGuid():N}.pid");
        var options = new ProcessSourceOptions
        {
            Command = "sh",
            Arguments = ["-c", "sleep 300 & echo $! > \"$1\"; wait", "sh", pidFile, "{port}"],
            Replicas = 1,
            StopTimeoutSeconds = 20,
        };
        await using var harness = new Harness(output, options);
        await harness.Source.StartAsync(CancellationToken.None);
        var server = int.Parse(
            await Eventually.WaitAsync(() => Task.FromResult(File.Exists(pidFile) ? File.ReadAllText(pidFile).Trim() : ""), t => t.Length > 0, TimeSpan.FromSeconds(10), "the wrapper's server"),
            System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(LinuxProcess.IsRunning(server));

        var clock = Stopwatch.StartNew();
        await harness.Source.StopAsync(CancellationToken.None);

        // SIGTERM reached the whole process group, so nothing waited for the kill after the stop timeout.
        await LinuxProcess.WaitUntilGoneAsync(server, TimeSpan.FromSeconds(5));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stop took {clock.Elapsed}");
        File.Delete(pidFile);
    }

    [Fact]
    public async Task StopAsync_ReadyReplicas_TerminatesEveryProcessWithSigtermAndEmptiesThePool()
    {
        var options = Simulator(replicas: 2);
        options.StopTimeoutSeconds = 20;
        await using var harness = new Harness(output, options);
        await harness.Source.StartAsync(CancellationToken.None);
        await harness.WaitUntilReadyAsync(2);
        var replicas = harness.Pool.Replicas.ToArray();
        var launches = harness.Logger.Entries.Count(e => e.EventId == 3100);

        var clock = Stopwatch.StartNew();
        await harness.Source.StopAsync(CancellationToken.None);

        Assert.Empty(harness.Pool.Replicas);
        Assert.All(replicas, r => Assert.Equal(ReplicaState.Stopped, r.State));
        Assert.All(replicas, r => Assert.False(LinuxProcess.IsRunning(r.ProcessId!.Value)));

        // SIGTERM, not the kill after the stop timeout: the simulator shuts down at once.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stop took {clock.Elapsed}");
        Assert.DoesNotContain(harness.Logger.Entries, e => e.EventId == 3111);

        // Nothing was relaunched once the stop began, though every process exited.
        Assert.Equal(launches, harness.Logger.Entries.Count(e => e.EventId == 3100));
    }

    [Fact]
    public async Task StopAsync_ChildIgnoresSigterm_KillsItAfterStopTimeout()
    {
        var options = IgnoresSigterm();
        options.StopTimeoutSeconds = 1;
        await using var harness = new Harness(output, options);
        await harness.Source.StartAsync(CancellationToken.None);
        var replica = Assert.Single(harness.Pool.Replicas);
        await harness.WaitUntilOutputAsync(replica, "ignoring SIGTERM");

        var clock = Stopwatch.StartNew();
        await harness.Source.StopAsync(CancellationToken.None);

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"killed after {clock.Elapsed}, before the stop timeout");
        Assert.False(LinuxProcess.IsRunning(replica.ProcessId!.Value));
        Assert.Empty(harness.Pool.Replicas);
        Assert.Contains(harness.Logger.Entries, e => e.EventId == 3111);
    }

    [Fact]
    public async Task StopAsync_Cancelled_KillsWithoutWaitingForTheStopTimeout()
    {
        var options = IgnoresSigterm();
        options.StopTimeoutSeconds = 600;
        await using var harness = new Harness(output, options);
        await harness.Source.StartAsync(CancellationToken.None);
        var replica = Assert.Single(harness.Pool.Replicas);
        await harness.WaitUntilOutputAsync(replica, "ignoring SIGTERM");
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        await harness.Source.StopAsync(giveUp.Token).WaitAsync(Deadline);

        Assert.False(LinuxProcess.IsRunning(replica.ProcessId!.Value));
        Assert.Empty(harness.Pool.Replicas);
    }

    [Fact]
    public async Task StartAsync_ExpandsPortAndAppDirInArguments_AndLogsTheChildsOutputWithTheReplicaId()
    {
        var options = new ProcessSourceOptions
        {
            Command = "sh",
            Arguments = ["-c", "echo \"dir=$0 port=$1\"; exec sleep 300", "{appdir}", "{port}"],
            Replicas = 1,
        };
        await using var harness = new Harness(output, options);
        await harness.Source.StartAsync(CancellationToken.None);
        var replica = Assert.Single(harness.Pool.Replicas);

        var appDir = AppContext.BaseDirectory.TrimEnd('/');
        await harness.WaitUntilOutputAsync(replica, $"dir={appDir} port={replica.Address.Port.ToString(CultureInfo.InvariantCulture)}");
    }

    [Fact]
    public void RestartDelay_RepeatedFailures_DoublesFromOneSecondUpToThirty()
    {
        var delays = Enumerable.Range(1, 8).Select(f => ProcessSupervisor.RestartDelay(f).TotalSeconds);

        Assert.Equal([1, 2, 4, 8, 16, 30, 30, 30], delays);
    }

    private static ProcessSourceOptions Simulator(int replicas, params string[] extra) => new()
    {
        Command = DotnetHost,
        Arguments = [SimulatorProcess.DllPath, "--port", "{port}", .. extra],
        Replicas = replicas,
        ReadyTimeoutSeconds = 60,
    };

    /// <summary>A child that ignores SIGTERM (an ignored signal stays ignored across exec) and never becomes ready.</summary>
    private static ProcessSourceOptions IgnoresSigterm() => new()
    {
        Command = "sh",
        Arguments = ["-c", "trap '' TERM; echo ignoring SIGTERM; exec sleep 300", "sh", "{port}"],
        Replicas = 1,
    };

    /// <summary>A pool in a service, the source that fills it, and everything that outlives a test cleaned up.</summary>
    private sealed class Harness : IAsyncDisposable
    {
        private readonly ChildProcessLauncher _launcher;

        public Harness(ITestOutputHelper output, ProcessSourceOptions options)
        {
            var service = new InferenceService(
                new ServiceOptions { Name = "qwen", Pools = [new PoolOptions { Name = "cloud", Process = options }] }, index: 0);
            Pool = service.Pools[0];
            Logger = new RecordingLogger<ProcessReplicaProvider>(output);
            _launcher = new ChildProcessLauncher(NullLogger<ChildProcessLauncher>.Instance);
            Source = new ProcessReplicaProvider(Pool, options, _launcher, Client, TimeProvider.System, Logger);
        }

        public Pool Pool { get; }

        public ProcessReplicaProvider Source { get; }

        public RecordingLogger<ProcessReplicaProvider> Logger { get; }

        public HttpClient Client { get; } = new() { Timeout = TimeSpan.FromSeconds(5) };

        public async Task WaitUntilReadyAsync(int count) =>
            await Eventually.WaitAsync(() => Task.FromResult(Pool.ReadyCount), n => n == count, Deadline, $"{count} replicas ready");

        public async Task<HttpStatusCode> HealthAsync(Replica replica)
        {
            try
            {
                using var response = await Client.GetAsync(new Uri(replica.Address, "health"));
                return response.StatusCode;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
                return 0;
            }
        }

        public async Task WaitUntilOutputAsync(Replica replica, string line) =>
            await Eventually.WaitAsync(
                () => Task.FromResult(Logger.Entries.Any(e => e.EventId == 3110 && e.Level == LogLevel.Information && e.Message == $"{replica.Id}: {line}")),
                logged => logged,
                Deadline,
                $"{replica.Id} logging \"{line}\"");

        public async ValueTask DisposeAsync()
        {
            await Source.DisposeAsync();
            _launcher.Dispose();
            Client.Dispose();
        }
    }
}

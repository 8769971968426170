using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Logging;

namespace Gateway.Providers;

/// <summary>
/// Replicas the gateway runs itself, one local process per replica on a free loopback port (a vLLM server on a
/// GPU host, or the simulator in the demo). A replica is provisioning until its <c>/health</c> answers 200; one
/// that does not get there in time, or whose process exits, is removed and replaced after a back-off. A scale
/// controller may add replicas and remove one explicitly; a replica removed that way is not replaced.
/// </summary>
/// <remarks>
/// Each replica slot is one loop that owns its current process from launch to exit, so a process can never
/// be forgotten between a crash, a restart and a stop: whatever way the loop leaves, it stops its process and
/// takes the replica out of the pool. Removing a replica ends its slot's loop, so the same path stops it.
/// </remarks>
internal sealed partial class ProcessReplicaProvider : IReplicaProvider, IPoolScaler, IAsyncDisposable
{
    /// <summary>The provider scales its own pool: it starts and stops the processes.</summary>
    public IPoolScaler Scaler => this;

    /// <summary>A probe that takes longer counts as "not ready yet".</summary>
    internal static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(1);

    private readonly Pool _pool;
    private readonly ProcessSourceOptions _options;
    private readonly ChildProcessLauncher _launcher;
    private readonly HttpClient _probeClient;
    private readonly TimeProvider _time;
    private readonly ILogger<ProcessReplicaProvider> _logger;
    private readonly TimeSpan _readyTimeout;
    private readonly TimeSpan _stopTimeout;

    // Stopping ends every slot loop; killing skips the SIGTERM grace period once the caller of StopAsync gives up.
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _killing = new();
    private readonly Lock _lock = new();
    private readonly List<Slot> _slots = [];
    private bool _started;
    private bool _stopped;
    private int _disposed;

    public ProcessReplicaProvider(
        Pool pool,
        ProcessSourceOptions options,
        ChildProcessLauncher launcher,
        HttpClient probeClient,
        TimeProvider time,
        ILogger<ProcessReplicaProvider> logger)
    {
        _pool = pool;
        _options = options;
        _launcher = launcher;
        _probeClient = probeClient;
        _time = time;
        _logger = logger;
        _readyTimeout = TimeSpan.FromSeconds(options.ReadyTimeoutSeconds);
        _stopTimeout = TimeSpan.FromSeconds(options.StopTimeoutSeconds);
    }

    public Pool Pool => _pool;

    /// <summary>
    /// Launches <see cref="ProcessSourceOptions.Replicas"/> processes and returns once each is started and in the
    /// pool as provisioning (or its launch failed and a retry is scheduled); readiness follows in the background.
    /// </summary>
    /// <remarks>
    /// Cancelling stops the wait, not the replicas: call <see cref="StopAsync"/> to stop them.
    /// </remarks>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_started)
            {
                throw new InvalidOperationException($"The process source of pool {_pool.Name} was already started");
            }

            _started = true;
        }

        await AddReplicasAsync(_options.Replicas, cancellationToken);
    }

    /// <summary>
    /// Launches <paramref name="count"/> more processes, each in a slot of its own that replaces it if it crashes;
    /// returns once each is in the pool as provisioning (or its launch failed and a retry is scheduled). Nothing is
    /// launched once the provider is stopping.
    /// </summary>
    public async Task AddReplicasAsync(int count, CancellationToken cancellationToken)
    {
        var launched = new Task[Math.Max(count, 0)];
        lock (_lock)
        {
            for (var i = 0; i < launched.Length; i++)
            {
                if (_stopped)
                {
                    launched[i] = Task.CompletedTask;
                    continue;
                }

                var slot = new Slot(this, CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
                launched[i] = slot.FirstLaunch.Task;

                // Task.Run: the loop's synchronous start (port, launch request) must not run under the lock. The slot's
                // Ending stops with the whole source or when this one replica is removed: either way it is not replaced.
                var supervisor = new ProcessSupervisor(slot, _pool, _probeClient, ProbeTimeout, _readyTimeout, _stopTimeout, _time);
                slot.Loop = Task.Run(() => supervisor.RunAsync(slot.FirstLaunch, slot.Ending.Token, _killing.Token), CancellationToken.None);
                _slots.Add(slot);
            }
        }

        await Task.WhenAll(launched).WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Ends the slot that runs <paramref name="replica"/>: its process gets SIGTERM, then a kill after
    /// <see cref="ProcessSourceOptions.StopTimeoutSeconds"/>, it leaves the pool first, and no replacement is
    /// started. Cancelling stops the wait, not the removal.
    /// </summary>
    public async Task RemoveReplicaAsync(Replica replica, CancellationToken cancellationToken)
    {
        Slot? slot = null;
        lock (_lock)
        {
            foreach (var candidate in _slots)
            {
                if (ReferenceEquals(candidate.Replica, replica))
                {
                    slot = candidate;
                    break;
                }
            }
        }

        if (slot is null)
        {
            // Crashed and already retired (its slot runs a replacement under another name), or never ours.
            return;
        }

        await slot.Ending.CancelAsync();
        await slot.Loop.WaitAsync(cancellationToken);
        lock (_lock)
        {
            _slots.Remove(slot);
        }

        slot.Ending.Dispose();
    }

    /// <summary>
    /// Launches the replicas the pool lacks, counted against the provider's own slots (a slot whose launch failed and
    /// is retrying counts), so asking twice for a count does not launch twice; the controller removes replicas one by
    /// one with <see cref="ScaleInAsync"/>.
    /// </summary>
    public Task ScaleOutAsync(ScaleRequest request, CancellationToken cancellationToken)
    {
        int slots;
        lock (_lock)
        {
            slots = _slots.Count;
        }

        return AddReplicasAsync(request.DesiredReplicas - slots, cancellationToken);
    }

    /// <summary>Stops the drained replica's process and does not replace it.</summary>
    public Task ScaleInAsync(Replica replica, ScaleRequest request, CancellationToken cancellationToken) =>
        RemoveReplicaAsync(replica, cancellationToken);

    /// <summary>
    /// Stops every replica: SIGTERM, up to <see cref="ProcessSourceOptions.StopTimeoutSeconds"/> to exit, then
    /// SIGKILL; no replica is restarted once this begins. Returns when every process has exited and the pool
    /// holds none of them. Cancelling kills the processes at once instead of waiting for them; the call still
    /// returns only once they are gone.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task[] slots;
        lock (_lock)
        {
            // Under the lock so that a StartAsync or AddReplicasAsync racing with this either sees stopping or
            // publishes its slots first.
            _started = true;
            _stopped = true;
            slots = new Task[_slots.Count];
            for (var i = 0; i < slots.Length; i++)
            {
                slots[i] = _slots[i].Loop;
            }
        }

        await _stopping.CancelAsync();
        await using (cancellationToken.Register(static state => ((CancellationTokenSource)state!).Cancel(), _killing))
        {
            await Task.WhenAll(slots);
        }
    }

    /// <summary>Stops the replicas if <see cref="StopAsync"/> was not called (a no-op if it was).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync(CancellationToken.None);
        _stopping.Dispose();
        _killing.Dispose();
    }

    /// <summary>Starts a process on a free port and adds it to the pool as provisioning; null when the launch failed.</summary>
    private async Task<ReplicaProcess?> LaunchAsync(Slot slot, CancellationToken stopping)
    {
        int port;
        string portText;
        System.Diagnostics.Process process;
        try
        {
            port = ChoosePort(slot);
            portText = port.ToString(CultureInfo.InvariantCulture);
            var arguments = new List<string>(_options.Arguments.Count);
            foreach (var argument in _options.Arguments)
            {
                arguments.Add(Expand(argument, portText));
            }

            // A group of its own, so that stopping the replica stops what its command started too (a bash -c wrapper's server).
            process = await _launcher.StartAsync(Expand(_options.Command, portText), arguments, ownProcessGroup: true, stopping);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A missing program or no free port: retried after the back-off like a crash, and logged each time.
            LogLaunchFailed(_logger, e, _pool.Name, _options.Command);
            return null;
        }

        var replica = _pool.AddReplica(new Uri($"http://127.0.0.1:{portText}"), ReplicaState.Provisioning);
        replica.ProcessId = process.Id;
        LogLaunched(_logger, replica.Id, process.Id, port);
        return new ReplicaProcess(replica, process, _logger);
    }

    /// <summary>
    /// One replica slot, run by a <see cref="ProcessSupervisor"/>: its loop, what ends it, and the replica it runs now
    /// (null between two launches).
    /// </summary>
    private sealed class Slot(ProcessReplicaProvider provider, CancellationTokenSource ending) : ISupervisedProcess
    {
        public CancellationTokenSource Ending { get; } = ending;

        public TaskCompletionSource FirstLaunch { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Loop { get; set; } = Task.CompletedTask;

        /// <summary>The port of the slot's last launch, reserved while the slot lives; read and written under the provider's lock.</summary>
        public int Port { get; set; }

        public Replica? Replica
        {
            get => Volatile.Read(ref field);
            set => Volatile.Write(ref field, value);
        }

        public async Task<ReplicaProcess?> LaunchAsync(CancellationToken stopping)
        {
            var child = await provider.LaunchAsync(this, stopping);
            Replica = child?.Replica;
            return child;
        }

        public Uri ReadinessAddress(Replica replica) => new(replica.Address, "health");

        public void Ready(ReplicaProcess child, Uri address, TimeSpan elapsed) => LogReady(provider._logger, child.Replica.Id, elapsed.TotalSeconds);

        public void NotReadyInTime(ReplicaProcess child, Uri address, TimeSpan readyTimeout) =>
            LogNotReadyInTime(provider._logger, child.Replica.Id, child.ProcessId, readyTimeout.TotalSeconds);

        public void ExitedBeforeReady(ReplicaProcess child) => LogExitedBeforeReady(provider._logger, child.Replica.Id, child.ProcessId, child.ExitCode);

        public void Exited(ReplicaProcess child) => LogExited(provider._logger, child.Replica.Id, child.ProcessId, child.ExitCode);

        public void SupervisionFailed(ReplicaProcess child, Exception exception) => LogSupervisionFailed(provider._logger, exception, child.Replica.Id);

        public void Retired(ReplicaProcess child)
        {
            LogRetired(provider._logger, child.Replica.Id, child.ProcessId);
            Replica = null;
        }

        public void RestartScheduled(TimeSpan delay, int failures) => LogRestartScheduled(provider._logger, provider._pool.Name, delay.TotalSeconds, failures);
    }

    private static string Expand(string template, string port) =>
        template
            .Replace("{port}", port, StringComparison.Ordinal)
            .Replace("{appdir}", Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory), StringComparison.Ordinal);

    /// <summary>
    /// A port the OS considers free now: any, or the lowest of the configured range that no replica of the pool has.
    /// Another process may take it before the replica binds; the replica then exits and its replacement gets a new
    /// port.
    /// </summary>
    private int ChoosePort(Slot slot)
    {
        if (_options.FirstPort == 0)
        {
            return TryBind(0) ?? throw new InvalidOperationException("The system gave no free loopback port");
        }

        // Under the lock, and kept by the slot until it ends: slots launch at once, and a port just bound and let go
        // looks free to the next slot too.
        lock (_lock)
        {
            var taken = new HashSet<int>();
            foreach (var other in _slots)
            {
                if (!ReferenceEquals(other, slot))
                {
                    taken.Add(other.Port);
                }
            }

            for (var port = _options.FirstPort; port <= _options.LastPort; port++)
            {
                if (!taken.Contains(port) && TryBind(port) is { } free)
                {
                    slot.Port = free;
                    return free;
                }
            }
        }

        throw new InvalidOperationException(
            $"No free port in {_options.FirstPort}-{_options.LastPort} (Process:FirstPort..LastPort) for pool {_pool.Name}");
    }

    /// <summary>Binds <paramref name="port"/> (0: any) on loopback and lets it go; the port, or null when something holds it.</summary>
    private static int? TryBind(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        catch (SocketException) when (port != 0)
        {
            return null;
        }
        finally
        {
            listener.Stop();
        }
    }

    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Replica {ReplicaId} launched as process {ProcessId} on port {Port}")]
    private static partial void LogLaunched(ILogger logger, string replicaId, int processId, int port);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Error, Message = "Could not launch a replica of pool {Pool} with {Command}")]
    private static partial void LogLaunchFailed(ILogger logger, Exception exception, string pool, string command);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "Replica {ReplicaId} is ready after {Seconds:0.0} s")]
    private static partial void LogReady(ILogger logger, string replicaId, double seconds);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Error,
        Message = "Replica {ReplicaId} (process {ProcessId}) was not ready within {ReadyTimeoutSeconds} s; replacing it")]
    private static partial void LogNotReadyInTime(ILogger logger, string replicaId, int processId, double readyTimeoutSeconds);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Error,
        Message = "Replica {ReplicaId} (process {ProcessId}) exited with code {ExitCode} before it was ready")]
    private static partial void LogExitedBeforeReady(ILogger logger, string replicaId, int processId, int exitCode);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Error, Message = "Replica {ReplicaId} (process {ProcessId}) exited with code {ExitCode}")]
    private static partial void LogExited(ILogger logger, string replicaId, int processId, int exitCode);

    [LoggerMessage(EventId = 3106, Level = LogLevel.Warning,
        Message = "Starting a replacement replica of pool {Pool} in {DelaySeconds} s ({Failures} failures in a row)")]
    private static partial void LogRestartScheduled(ILogger logger, string pool, double delaySeconds, int failures);

    [LoggerMessage(EventId = 3107, Level = LogLevel.Information, Message = "Replica {ReplicaId} (process {ProcessId}) stopped and removed")]
    private static partial void LogRetired(ILogger logger, string replicaId, int processId);

    [LoggerMessage(EventId = 3108, Level = LogLevel.Error, Message = "Supervising replica {ReplicaId} failed; replacing it")]
    private static partial void LogSupervisionFailed(ILogger logger, Exception exception, string replicaId);
}

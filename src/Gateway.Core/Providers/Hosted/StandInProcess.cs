using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Logging;

namespace Gateway.Providers.Hosted;

/// <summary>
/// The local process serving a provider pool's API (<see cref="ProviderSourceOptions.StandIn"/>, the simulator in the
/// demo): started with the gateway on <see cref="ProviderSourceOptions.BaseUrl"/>'s port with the certificate made for it
/// and the pool's key as <c>VLLM_API_KEY</c>; its replica is provisioning until <c>GET {BaseUrl}/models</c> answers 200
/// over TLS with that key and that certificate alone trusted. A stand-in that exits, or is not ready in
/// <see cref="ReadyTimeout"/>, leaves the pool and is started again after 1, 2, 4 … up to 30 s; it is stopped, SIGTERM
/// then a kill, with the gateway.
/// </summary>
/// <remarks>
/// A <see cref="ProcessSupervisor"/> runs it, as it runs a process pool's replica slot, so no process is forgotten
/// between a crash, a restart and a stop.
/// </remarks>
internal sealed partial class StandInProcess : ISupervisedProcess, IAsyncDisposable
{
    /// <summary>What vLLM, and so the simulator, reads its key from when <c>--api-key</c> is not given.</summary>
    internal const string ApiKeyVariable = "VLLM_API_KEY";

    /// <summary>How long a stand-in has, from its launch, to answer <c>/models</c>.</summary>
    internal static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long a stand-in has to exit after SIGTERM before it is killed.</summary>
    internal static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    private readonly Pool _pool;
    private readonly StandInOptions _options;
    private readonly StandInCertificate _certificate;
    private readonly string? _apiKey;
    private readonly string _baseUrlKey;
    private readonly ChildProcessLauncher _launcher;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Uri _baseUrl;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _killing = new();
    private Task _loop = Task.CompletedTask;
    private int _disposed;

    /// <param name="pool">The provider pool the stand-in serves.</param>
    /// <param name="options">Its command.</param>
    /// <param name="certificate">The certificate and key files made for it (<see cref="ProviderTrust"/>).</param>
    /// <param name="apiKey">The key the gateway sends the pool, passed to the stand-in as <c>VLLM_API_KEY</c>; null: none.</param>
    /// <param name="baseUrlKey">The configuration key of the pool's <c>BaseUrl</c>, named when its port is taken.</param>
    /// <param name="launcher">Starts the process so that it dies with the gateway.</param>
    /// <param name="time">The clock of the ready timeout and the restart back-off.</param>
    /// <param name="logger">Told of launches, readiness, exits and the stand-in's own output.</param>
    public StandInProcess(
        Pool pool, StandInOptions options, StandInCertificate certificate, string? apiKey, string baseUrlKey,
        ChildProcessLauncher launcher, TimeProvider time, ILogger logger)
    {
        _pool = pool;
        _options = options;
        _certificate = certificate;
        _apiKey = apiKey;
        _baseUrlKey = baseUrlKey;
        _launcher = launcher;
        _time = time;
        _logger = logger;
        _baseUrl = new Uri(pool.Options.Provider!.BaseUrl);
    }

    /// <summary>
    /// Launches the stand-in and returns once it is started and its replica is in the pool as provisioning (or the launch
    /// failed and a retry is scheduled); readiness follows in the background. Throws
    /// <see cref="GatewayConfigurationException"/> naming the <c>BaseUrl</c> key when another program holds its port.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!PortIsFree(_baseUrl))
        {
            throw new GatewayConfigurationException(
            [
                $"{_baseUrlKey}: port {_baseUrl.Port.ToString(CultureInfo.InvariantCulture)} of {_baseUrl.Host} is taken by another program, "
                + "and the stand-in provider must listen there; stop that program or give BaseUrl another port",
            ]);
        }

        var firstLaunch = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Task.Run: the loop's synchronous start (the launch request) must not hold up the caller.
        _loop = Task.Run(() => RunAsync(firstLaunch), CancellationToken.None);
        await firstLaunch.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Stops the stand-in: SIGTERM, up to <see cref="StopGrace"/> to exit, then a kill; it is not started again. Cancelling
    /// kills it at once; the call still returns only once it is gone.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await using (cancellationToken.Register(static state => ((CancellationTokenSource)state!).Cancel(), _killing))
        {
            await _loop;
        }
    }

    /// <summary>Stops the stand-in if <see cref="StopAsync"/> was not called (waiting for it again if it was).</summary>
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

    /// <summary>Whether nothing listens on <paramref name="url"/>'s loopback port now.</summary>
    internal static bool PortIsFree(Uri url)
    {
        var address = url.HostNameType == UriHostNameType.IPv6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
        var listener = new TcpListener(address, url.Port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            listener.Stop();
        }
    }

    private async Task RunAsync(TaskCompletionSource firstLaunch)
    {
        using var probe = CreateProbeClient();
        var supervisor = new ProcessSupervisor(this, _pool, probe, ProbeTimeout, ReadyTimeout, StopGrace, _time);
        await supervisor.RunAsync(firstLaunch, _stopping.Token, _killing.Token);
    }

    /// <summary>Starts the process and adds its replica as provisioning; null when the launch failed.</summary>
    async Task<ReplicaProcess?> ISupervisedProcess.LaunchAsync(CancellationToken stopping)
    {
        System.Diagnostics.Process process;
        try
        {
            var arguments = new List<string>(_options.Arguments.Count);
            foreach (var argument in _options.Arguments)
            {
                arguments.Add(Expand(argument));
            }

            var environment = _apiKey is null ? null : new Dictionary<string, string> { [ApiKeyVariable] = _apiKey };

            // A group of its own, so that stopping it stops what its command started too (a wrapper script's server).
            process = await _launcher.StartAsync(Expand(_options.Command), arguments, ownProcessGroup: true, environment, stopping);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A missing program: retried after the back-off like a crash, and logged each time.
            LogLaunchFailed(_logger, e, _pool.Name, _options.Command);
            return null;
        }

        var replica = _pool.AddReplica(_baseUrl, ReplicaState.Provisioning);
        replica.ProcessId = process.Id;
        LogLaunched(_logger, _pool.Name, process.Id, _baseUrl.Port);
        return new ReplicaProcess(replica, process, _logger);
    }

    /// <summary>The stand-in is ready once <c>GET {BaseUrl}/models</c> answers.</summary>
    Uri ISupervisedProcess.ReadinessAddress(Replica replica) => new(_baseUrl.AbsoluteUri.TrimEnd('/') + "/models");

    void ISupervisedProcess.Ready(ReplicaProcess child, Uri address, TimeSpan elapsed) => LogReady(_logger, _pool.Name, address, elapsed.TotalSeconds);

    void ISupervisedProcess.NotReadyInTime(ReplicaProcess child, Uri address, TimeSpan readyTimeout) =>
        LogNotReadyInTime(_logger, _pool.Name, child.ProcessId, address, readyTimeout.TotalSeconds);

    void ISupervisedProcess.ExitedBeforeReady(ReplicaProcess child) => LogExitedBeforeReady(_logger, _pool.Name, child.ProcessId, child.ExitCode);

    void ISupervisedProcess.Exited(ReplicaProcess child) => LogExited(_logger, _pool.Name, child.ProcessId, child.ExitCode);

    void ISupervisedProcess.SupervisionFailed(ReplicaProcess child, Exception exception) => LogSupervisionFailed(_logger, exception, child.Replica.Id);

    void ISupervisedProcess.Retired(ReplicaProcess child) => LogStopped(_logger, child.Replica.Id, child.ProcessId);

    void ISupervisedProcess.RestartScheduled(TimeSpan delay, int failures) => LogRestartScheduled(_logger, _pool.Name, delay.TotalSeconds, failures);

    /// <summary>A client that trusts the made certificate alone (host name checked) and sends the pool's key, as the forwarding does.</summary>
    private HttpClient CreateProbeClient()
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(_certificate.Certificate);
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy },
        };
        var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        if (_apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        }

        return client;
    }

    private string Expand(string template) =>
        template
            .Replace("{port}", _baseUrl.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{certfile}", _certificate.CertFile, StringComparison.Ordinal)
            .Replace("{keyfile}", _certificate.KeyFile, StringComparison.Ordinal)
            .Replace("{appdir}", Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory), StringComparison.Ordinal);

    [LoggerMessage(EventId = 3140, Level = LogLevel.Information, Message = "Stand-in provider of pool {Pool} launched as process {ProcessId} on port {Port}")]
    private static partial void LogLaunched(ILogger logger, string pool, int processId, int port);

    [LoggerMessage(EventId = 3141, Level = LogLevel.Error, Message = "Could not launch the stand-in provider of pool {Pool} with {Command}")]
    private static partial void LogLaunchFailed(ILogger logger, Exception exception, string pool, string command);

    [LoggerMessage(EventId = 3142, Level = LogLevel.Information, Message = "Stand-in provider of pool {Pool} answers {Models} over TLS after {Seconds:0.0} s; ready")]
    private static partial void LogReady(ILogger logger, string pool, Uri models, double seconds);

    [LoggerMessage(EventId = 3143, Level = LogLevel.Error,
        Message = "Stand-in provider of pool {Pool} (process {ProcessId}) did not answer {Models} within {ReadyTimeoutSeconds} s; starting it again")]
    private static partial void LogNotReadyInTime(ILogger logger, string pool, int processId, Uri models, double readyTimeoutSeconds);

    [LoggerMessage(EventId = 3144, Level = LogLevel.Error,
        Message = "Stand-in provider of pool {Pool} (process {ProcessId}) exited with code {ExitCode} before it was ready")]
    private static partial void LogExitedBeforeReady(ILogger logger, string pool, int processId, int exitCode);

    [LoggerMessage(EventId = 3145, Level = LogLevel.Error, Message = "Stand-in provider of pool {Pool} (process {ProcessId}) exited with code {ExitCode}")]
    private static partial void LogExited(ILogger logger, string pool, int processId, int exitCode);

    [LoggerMessage(EventId = 3146, Level = LogLevel.Warning,
        Message = "Starting the stand-in provider of pool {Pool} again in {DelaySeconds} s ({Failures} failures in a row)")]
    private static partial void LogRestartScheduled(ILogger logger, string pool, double delaySeconds, int failures);

    [LoggerMessage(EventId = 3147, Level = LogLevel.Information, Message = "Stand-in {ReplicaId} (process {ProcessId}) stopped and out of its pool")]
    private static partial void LogStopped(ILogger logger, string replicaId, int processId);

    [LoggerMessage(EventId = 3148, Level = LogLevel.Error, Message = "Supervising stand-in {ReplicaId} failed; starting it again")]
    private static partial void LogSupervisionFailed(ILogger logger, Exception exception, string replicaId);
}

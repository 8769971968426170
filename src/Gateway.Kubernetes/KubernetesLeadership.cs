using System.Globalization;
using Gateway.Configuration;
using Gateway.Scaling;
using Gateway.Telemetry;
using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Kubernetes;

/// <summary>
/// Elects one scaling gateway among its replicas with KubernetesClient's <see cref="LeaderElector"/> on a
/// <c>coordination.k8s.io/v1</c> Lease. Every replica serves traffic and exports metrics; only the holder of the
/// Lease is <see cref="IsLeader"/>, so only its scaling loop ticks. A leader that cannot renew within the renew
/// deadline stops leading before the lease runs out, so two gateways never scale at once; a gateway that stops
/// gives the Lease up, so the next one takes over at once instead of after the lease duration.
/// </summary>
internal sealed partial class KubernetesLeadership : BackgroundService, IScalingLeadership
{
    private readonly IKubernetes _client;
    private readonly LeaderElectionOptions _options;
    private readonly GatewayMetrics? _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _leadingLock = new();
    private volatile bool _leading;

    // Replaced at each term's start and cancelled at its end; not disposed, since a scaling call may still hold its
    // token (a source without a timer holds nothing to release).
    private volatile CancellationTokenSource _term = Ended();

    // Whether the Lease may still be this gateway's when it stops: the elector reports "stopped leading" on its way
    // out too, which must not be taken for a lost Lease.
    private volatile bool _mayHoldLease;
    private CancellationToken _stopping;

    public KubernetesLeadership(
        IKubernetes client, LeaderElectionOptions options, string @namespace, string identity, GatewayMetrics? metrics, TimeProvider time, ILogger<KubernetesLeadership> logger)
    {
        _client = client;
        _options = options;
        Namespace = @namespace;
        Identity = identity;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    /// <summary>This gateway's name in the Lease.</summary>
    public string Identity { get; }

    /// <summary>The Lease's namespace.</summary>
    public string Namespace { get; }

    public bool IsLeader => _leading;

    /// <summary>This term's token: cancelled the moment leadership is lost (and while not leading).</summary>
    public CancellationToken Term => _term.Token;

    /// <summary>The Lease's namespace for <paramref name="options"/>: as configured, else the pod's, else the client's context's, else <c>default</c>.</summary>
    public static string NamespaceFor(LeaderElectionOptions options, KubernetesClientConfiguration? client, Func<string, string?> environment) =>
        options.Namespace.Length > 0 ? options.Namespace
        : environment("POD_NAMESPACE") is { Length: > 0 } pod ? pod
        : client?.Namespace is { Length: > 0 } context ? context.Trim()
        : "default";

    /// <summary>
    /// This gateway's name for <paramref name="options"/>: as configured, else the pod's name, else host name and
    /// process id (two gateways on one host outside a cluster must not share a name, or both would lead).
    /// </summary>
    public static string IdentityFor(LeaderElectionOptions options, Func<string, string?> environment) =>
        options.Identity.Length > 0 ? options.Identity
        : environment("POD_NAME") is { Length: > 0 } pod ? pod
        : string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        _metrics?.Leading(Identity, leading: false);
        var leaseLock = new LeaseLock(_client, Namespace, _options.LeaseName, Identity);
        using var elector = new LeaderElector(new LeaderElectionConfig(leaseLock)
        {
            LeaseDuration = TimeSpan.FromSeconds(_options.LeaseDurationSeconds),
            RenewDeadline = TimeSpan.FromSeconds(_options.RenewDeadlineSeconds),
            RetryPeriod = TimeSpan.FromSeconds(_options.RetryPeriodSeconds),
        });
        elector.OnStartedLeading += () => SetLeading(true);
        elector.OnStoppedLeading += () => SetLeading(false);
        elector.OnNewLeader += leader => LogNewLeader(_logger, leader ?? "", Namespace, _options.LeaseName);

        LogCandidate(_logger, Identity, Namespace, _options.LeaseName);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await elector.RunAndTryToHoldLeadershipForeverAsync(stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
#pragma warning disable CA1031 // An API server that does not answer must not stop the gateway: it keeps serving and tries again.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    SetLeading(false);
                    LogElectionFailed(_logger, e, Namespace, _options.LeaseName);
                    await Task.Delay(TimeSpan.FromSeconds(_options.RetryPeriodSeconds), _time, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            SetLeading(false);
            if (_mayHoldLease)
            {
                await ReleaseAsync();
            }
        }
    }

    private static CancellationTokenSource Ended()
    {
        var ended = new CancellationTokenSource();
        ended.Cancel();
        return ended;
    }

    private void SetLeading(bool leading)
    {
        // Called from the elector's callbacks and from the election loop: one change at a time, so the gauge and the
        // log follow the flag in order.
        lock (_leadingLock)
        {
            if (_leading == leading)
            {
                return;
            }

            if (leading)
            {
                _term = new CancellationTokenSource();
            }
            else
            {
                _term.Cancel();
            }

            _leading = leading;
            if (leading || !_stopping.IsCancellationRequested)
            {
                _mayHoldLease = leading;
            }

            _metrics?.Leading(Identity, leading);
            if (leading)
            {
                LogStartedLeading(_logger, Identity);
            }
            else
            {
                LogStoppedLeading(_logger, Identity);
            }
        }
    }

    /// <summary>
    /// Gives the Lease up as client-go's ReleaseOnCancel does: no holder, and a lease of one second, so another
    /// gateway takes over on its next try. Only a Lease this gateway still holds is touched; the write carries the
    /// version read, so a Lease taken meanwhile is left alone (409).
    /// </summary>
    private async Task ReleaseAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(_options.RenewDeadlineSeconds), _time);
        try
        {
            var lease = await _client.CoordinationV1.ReadNamespacedLeaseAsync(_options.LeaseName, Namespace, cancellationToken: timeout.Token);
            if (lease.Spec?.HolderIdentity != Identity)
            {
                return;
            }

            var now = _time.GetUtcNow().UtcDateTime;
            lease.Spec.HolderIdentity = "";
            lease.Spec.LeaseDurationSeconds = 1;
            lease.Spec.AcquireTime = now;
            lease.Spec.RenewTime = now;
            await _client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, _options.LeaseName, Namespace, cancellationToken: timeout.Token);
            LogReleased(_logger, Identity, Namespace, _options.LeaseName);
        }
#pragma warning disable CA1031 // Best effort: a Lease not released simply expires after its duration.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogReleaseFailed(_logger, e, Namespace, _options.LeaseName);
        }
    }

    [LoggerMessage(EventId = 5200, Level = LogLevel.Information, Message = "Gateway {Identity} is a candidate for leader on Lease {Namespace}/{Lease}")]
    private static partial void LogCandidate(ILogger logger, string identity, string @namespace, string lease);

    [LoggerMessage(EventId = 5201, Level = LogLevel.Information, Message = "Gateway {Identity} leads: it scales the elastic pools")]
    private static partial void LogStartedLeading(ILogger logger, string identity);

    [LoggerMessage(EventId = 5202, Level = LogLevel.Information, Message = "Gateway {Identity} no longer leads")]
    private static partial void LogStoppedLeading(ILogger logger, string identity);

    [LoggerMessage(EventId = 5203, Level = LogLevel.Information, Message = "Leader on Lease {Namespace}/{Lease} is now {Leader}")]
    private static partial void LogNewLeader(ILogger logger, string leader, string @namespace, string lease);

    [LoggerMessage(EventId = 5204, Level = LogLevel.Warning, Message = "Leader election on Lease {Namespace}/{Lease} failed; trying again")]
    private static partial void LogElectionFailed(ILogger logger, Exception exception, string @namespace, string lease);

    [LoggerMessage(EventId = 5205, Level = LogLevel.Information, Message = "Gateway {Identity} released Lease {Namespace}/{Lease}")]
    private static partial void LogReleased(ILogger logger, string identity, string @namespace, string lease);

    [LoggerMessage(EventId = 5206, Level = LogLevel.Warning, Message = "Could not release Lease {Namespace}/{Lease}; it expires on its own")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string @namespace, string lease);
}

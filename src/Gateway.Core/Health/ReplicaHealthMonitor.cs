using System.Net;
using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Health;

/// <summary>
/// Keeps every replica's <see cref="ReplicaHealth"/>: probes each ready replica's <c>/health</c> on its pool's
/// schedule, off the request path, and takes in the failures the forwarder sees in real traffic.
/// </summary>
/// <remarks>
/// One loop per pool ticks every probe interval and probes the replicas whose probe is due, all at once, so a
/// hanging replica costs the others nothing but costs itself its timeout. Provisioning
/// replicas are left to their source, which probes them until they are ready; draining ones take no new requests
/// whatever their health. The probe client is the pool's own named client, whose resilience pipeline holds the
/// probe timeout and nothing else: the schedule here is the retry.
/// </remarks>
internal sealed partial class ReplicaHealthMonitor : BackgroundService
{
    private readonly Dictionary<Pool, PoolProbe> _pools = [];
    private readonly IHttpClientFactory _clients;
    private readonly TimeProvider _time;
    private readonly ILogger<ReplicaHealthMonitor> _logger;
    private readonly long _origin;

    public ReplicaHealthMonitor(
        GatewayTopology topology, IHttpClientFactory clients, TimeProvider time, ILogger<ReplicaHealthMonitor> logger)
    {
        _clients = clients;
        _time = time;
        _logger = logger;
        _origin = time.GetTimestamp();
        foreach (var service in topology.Services)
        {
            foreach (var pool in service.Pools)
            {
                if (pool.IsProvider)
                {
                    // A hosted API has no /health; its circuit breaker takes it out and lets it back (ProviderClients).
                    continue;
                }

                _pools[pool] = new PoolProbe(HealthPolicy.From(pool.Options.Health), ClientName(service.Options, pool.Options));
            }
        }
    }

    /// <summary>How the names of the probe clients (and so of their resilience pipelines) begin.</summary>
    public const string ClientNamePrefix = "replica-health:";

    /// <summary>The named HTTP client that probes a pool's replicas, with that pool's probe timeout.</summary>
    public static string ClientName(ServiceOptions service, PoolOptions pool) => $"{ClientNamePrefix}{service.Namespace}/{service.Name}/{pool.Name}";

    /// <summary>A request failed in a way that is the replica's fault: no connection, a reset, a 5xx, no answer in time.</summary>
    public void OnTrafficFailure(Replica replica)
    {
        if (!_pools.TryGetValue(replica.Pool, out var pool))
        {
            return;
        }

        if (replica.Health.TrafficFailed(Now, pool.Policy) == HealthChange.TakenOut)
        {
            LogTakenOut(_logger, replica.Id, replica.Health.Failures, "requests", (replica.Health.NextProbeAt - Now).TotalSeconds);
        }
    }

    /// <summary>A request got an answer that was not a 5xx.</summary>
    public static void OnTrafficSuccess(Replica replica) => replica.Health.TrafficSucceeded();

    /// <summary>The monitor's monotonic clock, as <see cref="ReplicaHealth"/> reads time.</summary>
    private TimeSpan Now => _time.GetElapsedTime(_origin);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loops = new List<Task>(_pools.Count);
        foreach (var (pool, probe) in _pools)
        {
            loops.Add(ProbePoolAsync(pool, probe.Policy, _clients.CreateClient(probe.ClientName), stoppingToken));
        }

        return Task.WhenAll(loops);
    }

    private async Task ProbePoolAsync(Pool pool, HealthPolicy policy, HttpClient client, CancellationToken stopping)
    {
        var probes = new List<Task>();
        try
        {
            while (true)
            {
                var tick = Now;
                foreach (var replica in pool.Snapshot)
                {
                    if (replica.State == ReplicaState.Ready && replica.Health.IsProbeDue(tick))
                    {
                        probes.Add(ProbeAsync(replica, policy, client, stopping));
                    }
                }

                await Task.WhenAll(probes);
                probes.Clear();

                // Ticks keep their pace whatever the probes took, so a hanging replica is still probed every interval.
                var wait = policy.ProbeInterval - (Now - tick);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, stopping);
                }

                stopping.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The gateway stops.
        }
    }

    private async Task ProbeAsync(Replica replica, HealthPolicy policy, HttpClient client, CancellationToken stopping)
    {
        // The schedule counts from the probe's start, so the next tick of the pool's loop always finds it due.
        var startedAt = Now;
        string? failure;
        try
        {
            using var response = await client.GetAsync(new Uri(replica.Address, "health"), HttpCompletionOption.ResponseHeadersRead, stopping);
            failure = response.StatusCode == HttpStatusCode.OK ? null : $"status {(int)response.StatusCode}";
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return;
        }
#pragma warning disable CA1031 // Whatever went wrong (refused, reset, the pipeline's timeout), the replica did not show it is healthy.
        catch (Exception e)
#pragma warning restore CA1031
        {
            failure = e.GetType().Name + ": " + e.Message;
        }

        if (failure is null)
        {
            if (replica.Health.ProbeSucceeded(startedAt, policy) == HealthChange.Recovered)
            {
                LogRecovered(_logger, replica.Id);
            }

            return;
        }

        var change = replica.Health.ProbeFailed(startedAt, policy);
        LogProbeFailed(_logger, replica.Id, failure, (replica.Health.NextProbeAt - startedAt).TotalSeconds);
        if (change == HealthChange.TakenOut)
        {
            LogTakenOut(_logger, replica.Id, replica.Health.Failures, "probes", (replica.Health.NextProbeAt - startedAt).TotalSeconds);
        }
    }

    private sealed record PoolProbe(HealthPolicy Policy, string ClientName);

    [LoggerMessage(EventId = 3300, Level = LogLevel.Warning,
        Message = "Replica {ReplicaId} takes no new requests after {Failures} failures in a row (seen by {Source}); next probe in {BackoffSeconds:0.#} s")]
    private static partial void LogTakenOut(ILogger logger, string replicaId, int failures, string source, double backoffSeconds);

    [LoggerMessage(EventId = 3301, Level = LogLevel.Information, Message = "Replica {ReplicaId} answers its health probe again and takes requests")]
    private static partial void LogRecovered(ILogger logger, string replicaId);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Debug, Message = "Health probe of {ReplicaId} failed ({Failure}); next probe in {NextProbeSeconds:0.#} s")]
    private static partial void LogProbeFailed(ILogger logger, string replicaId, string failure, double nextProbeSeconds);
}

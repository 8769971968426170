using System.Net.Http.Headers;
using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly.Timeout;

namespace Gateway.Load;

/// <summary>
/// Reads every ready replica's own load from its vLLM <c>/metrics</c>, once per
/// <see cref="LoadOptions.ScrapeIntervalSeconds"/>, so placement sees what other clients (other gateway replicas)
/// run there. Off the request path: placement only reads the snapshot each scrape leaves on the replica.
/// </summary>
/// <remarks>
/// Each pool has a loop that notices replicas as they come, and each replica a loop of its own, so a replica that
/// answers slowly or not at all delays no other. A scrape is one request with a deadline of one interval; a failed
/// one is simply tried again at the next interval, and the <see cref="ReplicaLoadTracker"/> decides when the last
/// good figures have become too old to trust.
/// </remarks>
internal sealed partial class LoadScraper(
    GatewayTopology topology, IHttpClientFactory clients, TimeProvider time, ILogger<LoadScraper> logger)
    : BackgroundService
{
    /// <summary>The name of the HTTP client that scrapes replicas (a resilience pipeline with a timeout, no retries).</summary>
    public const string ClientName = "replica-load";

    /// <summary>The deadline of one scrape, read by the client's timeout strategy.</summary>
    public static readonly HttpRequestOptionsKey<TimeSpan> TimeoutKey = new("Gateway.LoadScrapeTimeout");

    /// <summary>Larger answers are refused: a vLLM exposition is tens of kilobytes, even with many models.</summary>
    internal const int MaxExpositionBytes = 4 * 1024 * 1024;

    // Ask for the classic text format: prometheus_client answers OpenMetrics only to those who ask for it.
    private static readonly MediaTypeWithQualityHeaderValue TextFormat = MediaTypeWithQualityHeaderValue.Parse("text/plain; version=0.0.4");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pools = new List<Task>();
        foreach (var service in topology.Services)
        {
            foreach (var pool in service.Pools)
            {
                var load = pool.Options.Load;
                if (load.Enabled && !pool.IsProvider)
                {
                    LogScrapingPool(logger, service.Name, pool.Name, load.ScrapeIntervalSeconds);
                    pools.Add(RunPoolAsync(pool, load, stoppingToken));
                }
            }
        }

        await Task.WhenAll(pools);
    }

    /// <summary>Starts a replica loop for every replica that joins the pool, until the gateway stops.</summary>
    private async Task RunPoolAsync(Pool pool, LoadOptions load, CancellationToken stopping)
    {
        var interval = TimeSpan.FromSeconds(load.ScrapeIntervalSeconds);
        var loops = new Dictionary<Replica, Task>(ReferenceEqualityComparer.Instance);
        var ended = new List<Replica>();
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                foreach (var (replica, loop) in loops)
                {
                    if (loop.IsCompleted)
                    {
                        ended.Add(replica);
                    }
                }

                foreach (var replica in ended)
                {
                    loops.Remove(replica);
                }

                ended.Clear();
                foreach (var replica in pool.Snapshot)
                {
                    if (replica.State != ReplicaState.Stopped && !loops.ContainsKey(replica))
                    {
                        var tracker = new ReplicaLoadTracker(replica, load, time);
                        loops.Add(replica, Task.Run(() => RunReplicaAsync(tracker, interval, stopping), CancellationToken.None));
                    }
                }

                await Task.Delay(interval, time, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The gateway stops; the replica loops stop with it.
        }
        finally
        {
            await Task.WhenAll(loops.Values);
        }
    }

    /// <summary>Scrapes one replica every interval while it is ready, until it leaves the pool or the gateway stops.</summary>
    private async Task RunReplicaAsync(ReplicaLoadTracker tracker, TimeSpan interval, CancellationToken stopping)
    {
        var replica = tracker.Replica;
        var metrics = new Uri(replica.Address, "metrics");
        var buffer = new byte[16 * 1024];
        try
        {
            while (replica.State != ReplicaState.Stopped)
            {
                var started = time.GetTimestamp();
                try
                {
                    if (replica.State == ReplicaState.Ready)
                    {
                        tracker.Begin();
                        buffer = await ScrapeOnceAsync(tracker, metrics, interval, buffer, stopping);
                    }
                    else
                    {
                        tracker.Reset();
                    }
                }
#pragma warning disable CA1031 // A bug in one scrape must not end the replica's loop, nor the host: the next interval tries again.
                catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
#pragma warning restore CA1031
                {
                    LogScrapeLoopFailed(logger, e, replica.Id);
                }

                var wait = interval - time.GetElapsedTime(started);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, stopping);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The gateway stops.
        }
    }

    /// <summary>One scrape and its outcome recorded; returns the buffer to use next time (grown if the answer needed it).</summary>
    private async Task<byte[]> ScrapeOnceAsync(ReplicaLoadTracker tracker, Uri metrics, TimeSpan timeout, byte[] buffer, CancellationToken stopping)
    {
        var replica = tracker.Replica;
        var inFlightBefore = replica.InFlight;
        string? problem;
        var length = 0;
        try
        {
            (problem, length, buffer) = await FetchAsync(metrics, timeout, buffer, stopping);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            // Refused, reset, or cut off while the body streamed.
            problem = e.Message;
        }
        catch (Exception e) when (e is TimeoutRejectedException || (e is OperationCanceledException && !stopping.IsCancellationRequested))
        {
            problem = $"no answer within {timeout.TotalSeconds} s";
        }

        if (problem is null)
        {
            if (VllmLoad.TryRead(buffer.AsSpan(0, length), out var load))
            {
                var wasStale = tracker.IsStale;
                tracker.RecordScrape(load, inFlightBefore, replica.InFlight);
                if (wasStale)
                {
                    LogFreshAgain(logger, replica.Id);
                }

                return buffer;
            }

            problem = "the answer has no vllm:num_requests_running or vllm:num_requests_waiting";
        }

        LogScrapeFailed(logger, replica.Id, problem);
        if (tracker.RecordFailure())
        {
            LogStale(logger, replica.Id, tracker.StaleAfter.TotalSeconds, tracker.WhenStale);
        }

        return buffer;
    }

    /// <summary>GETs the exposition into <paramref name="buffer"/>; a problem (bad status, too large) or its length.</summary>
    private async Task<(string? Problem, int Length, byte[] Buffer)> FetchAsync(Uri metrics, TimeSpan timeout, byte[] buffer, CancellationToken stopping)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, metrics);
        request.Headers.Accept.Add(TextFormat);
        request.Options.Set(TimeoutKey, timeout);
        var sent = time.GetTimestamp();
        using var client = clients.CreateClient(ClientName);

        // The client's timeout strategy bounds the exchange up to the response headers. It has returned by the time
        // the body streams, so the body gets what is left of the same budget.
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stopping);
        if (!response.IsSuccessStatusCode)
        {
            return ($"status {(int)response.StatusCode}", 0, buffer);
        }

        var left = timeout - time.GetElapsedTime(sent);
        using var deadline = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, deadline.Token);
        await using var body = await response.Content.ReadAsStreamAsync(linked.Token);
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length >= MaxExpositionBytes)
                {
                    return ($"an answer larger than {MaxExpositionBytes} bytes", 0, buffer);
                }

                Array.Resize(ref buffer, Math.Min(buffer.Length * 2, MaxExpositionBytes));
            }

            var read = await body.ReadAsync(buffer.AsMemory(length), linked.Token);
            if (read == 0)
            {
                return (null, length, buffer);
            }

            length += read;
        }
    }

    [LoggerMessage(EventId = 3200, Level = LogLevel.Information, Message = "Scraping the load of {Service}/{Pool} replicas every {IntervalSeconds} s")]
    private static partial void LogScrapingPool(ILogger logger, string service, string pool, double intervalSeconds);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Debug, Message = "Scraping the load of replica {ReplicaId} failed: {Problem}")]
    private static partial void LogScrapeFailed(ILogger logger, string replicaId, string problem);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Warning,
        Message = "The load figures of replica {ReplicaId} are stale (no good scrape for {StaleAfterSeconds} s); placement now follows {WhenStale}")]
    private static partial void LogStale(ILogger logger, string replicaId, double staleAfterSeconds, StaleLoadPolicy whenStale);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Information, Message = "The load figures of replica {ReplicaId} are fresh again")]
    private static partial void LogFreshAgain(ILogger logger, string replicaId);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Error, Message = "Scraping the load of replica {ReplicaId} failed unexpectedly; trying again next interval")]
    private static partial void LogScrapeLoopFailed(ILogger logger, Exception exception, string replicaId);
}

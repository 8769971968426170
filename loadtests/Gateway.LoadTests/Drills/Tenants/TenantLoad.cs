using System.Diagnostics;
using Gateway.LoadTests.Drills.Chaos;
using Gateway.LoadTests.Targets;

namespace Gateway.LoadTests.Drills.Tenants;

/// <summary>
/// The closed loop of a phase's clients: each sends its next request when its last is answered, and every request's
/// record is kept. A clean error's <c>Retry-After</c> is honoured (up to <see cref="ChaosLoad.MaxRetryAfter"/>), as
/// OpenAI's SDKs do. Stopping stops the sending, not the requests already sent: each is read to its end or deadline.
/// Several loads may share one clock (<see cref="Stopwatch"/> timestamp <c>origin</c>), so a flood can join a load
/// already running and both are read on the same time line.
/// </summary>
internal sealed class TenantLoad
{
    private readonly List<TenantRecord> _records = [];
    private readonly CancellationTokenSource _stop;
    private readonly Task[] _clients;
    private readonly long _origin;

    private TenantLoad(IReadOnlyList<TenantRequest> clients, long origin, CancellationToken cancellationToken)
    {
        _origin = origin;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _clients = [.. clients.Select(c => Task.Run(() => RunClientAsync(c, cancellationToken), CancellationToken.None))];
    }

    /// <summary>Starts one client per element of <paramref name="clients"/>, timing on the clock that started at <paramref name="origin"/>.</summary>
    public static TenantLoad Start(IReadOnlyList<TenantRequest> clients, long origin, CancellationToken cancellationToken) =>
        new(clients, origin, cancellationToken);

    /// <summary>
    /// Every client of <paramref name="tenants"/> in a closed loop against <paramref name="gateway"/> for
    /// <paramref name="seconds"/>: the records, once the requests under way have ended, and when the load ran (the
    /// gateway's clock).
    /// </summary>
    public static async Task<(IReadOnlyList<TenantRecord> Records, double From, double To)> RunAsync(
        TenantGateway gateway, IReadOnlyList<DrillTenant> tenants, TenantsSettings settings, double seconds, CancellationToken cancellationToken)
    {
        using var client = LoadClient.Create(Timeout.InfiniteTimeSpan);
        var from = gateway.Now;
        var load = Start(
            [.. tenants.SelectMany(t => Enumerable.Range(0, t.Clients).Select(_ => new TenantRequest(client, gateway.PublicAddress, settings.Host, t, settings.Body, settings.ClientDeadline)))],
            gateway.Origin,
            cancellationToken);
        IReadOnlyList<TenantRecord> records;
        double to;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken);
            to = gateway.Now;
            gateway.Log("load stopped; waiting for the requests under way");
        }
        finally
        {
            records = await load.StopAsync();
        }

        return (records, from, to);
    }

    /// <summary>Stops sending, waits for the requests under way to end, and returns every record in start order.</summary>
    public async Task<IReadOnlyList<TenantRecord>> StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
        _stop.Dispose();
        lock (_records)
        {
            return [.. _records.OrderBy(r => r.StartedAt)];
        }
    }

    private double Now => Stopwatch.GetElapsedTime(_origin).TotalSeconds;

    private async Task RunClientAsync(TenantRequest request, CancellationToken cancellationToken)
    {
        var stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            var started = Now;

            // The drill's token, not the stop: a request sent is answered and counted.
            var (verdict, firstTokenMs, retryAfter) = await request.SendAsync(cancellationToken);
            lock (_records)
            {
                _records.Add(new TenantRecord(request.Tenant.Name, Math.Round(started, 3), Math.Round(Now, 3), firstTokenMs, verdict));
            }

            if (verdict.Kind == VerdictKind.CleanError && retryAfter is { } wait && wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait < ChaosLoad.MaxRetryAfter ? wait : ChaosLoad.MaxRetryAfter, stop);
                }
                catch (OperationCanceledException)
                {
                    // Stopped while waiting: nothing was sent.
                }
            }
        }
    }
}

using System.Diagnostics;

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// The closed loop of a chaos phase: each client sends its next request when its last is answered, and keeps every
/// verdict. A clean error's <c>Retry-After</c> is honoured (up to <see cref="MaxRetryAfter"/>), as OpenAI's SDKs do, so
/// a draining gateway is not hammered with requests it can only turn away. Stopping stops the sending, not the requests
/// already sent: each is read to its end or its deadline and counted. A refused connection is a lost request while the
/// gateway is meant to run; once it was told to stop (<see cref="GatewayStopping"/>) it means the gateway is gone, is
/// counted apart, and ends its client.
/// </summary>
internal sealed class ChaosLoad
{
    /// <summary>The longest pause a Retry-After gets.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(5);

    private readonly List<RequestRecord> _records = [];
    private readonly CancellationTokenSource _stop;
    private readonly Task[] _clients;
    private readonly long _origin;
    private readonly Func<bool> _gatewayExited;
    private volatile bool _gatewayStopping;

    private ChaosLoad(IReadOnlyList<ChaosRequest> clients, Func<bool> gatewayExited, CancellationToken cancellationToken)
    {
        _origin = Stopwatch.GetTimestamp();
        _gatewayExited = gatewayExited;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _clients = [.. clients.Select(c => Task.Run(() => RunClientAsync(c, cancellationToken), CancellationToken.None))];
    }

    /// <summary>Set just before the gateway is told to stop: from then on a refused connection means it is gone.</summary>
    public bool GatewayStopping
    {
        get => _gatewayStopping;
        set => _gatewayStopping = value;
    }

    /// <summary>Seconds since the load started: the phase's clock.</summary>
    public double Now => Stopwatch.GetElapsedTime(_origin).TotalSeconds;

    /// <summary>Completes once every client has stopped by itself (each met the gateway gone).</summary>
    public Task AllClientsStopped => Task.WhenAll(_clients);

    /// <summary>Starts one client per request of <paramref name="clients"/>; <paramref name="gatewayExited"/> tells a refusal after the exit from one before.</summary>
    public static ChaosLoad Start(IReadOnlyList<ChaosRequest> clients, Func<bool> gatewayExited, CancellationToken cancellationToken) =>
        new(clients, gatewayExited, cancellationToken);

    /// <summary>Stops sending, waits for the requests under way to end, and returns every request's record in start order.</summary>
    public async Task<IReadOnlyList<RequestRecord>> StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
        _stop.Dispose();
        lock (_records)
        {
            return [.. _records.OrderBy(r => r.StartedAt)];
        }
    }

    private async Task RunClientAsync(ChaosRequest request, CancellationToken cancellationToken)
    {
        var stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            var started = Now;

            // The drill's token, not the stop: a request sent is answered and counted.
            var (verdict, retryAfter) = await request.SendAsync(cancellationToken);
            var gone = false;
            if (verdict.Kind == VerdictKind.Refused)
            {
                gone = _gatewayStopping;
                verdict = gone
                    ? verdict with { Detail = _gatewayExited() ? "after the gateway exited" : "the gateway had closed its listener, its process still stopping" }
                    : Verdict.Lost("connection refused while the gateway ran", verdict.Detail);
            }

            lock (_records)
            {
                _records.Add(new RequestRecord(request.Streamed, Math.Round(started, 3), Math.Round(Now, 3), verdict));
            }

            if (gone)
            {
                return;
            }

            if (verdict.Kind == VerdictKind.CleanError && retryAfter is { } wait && wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait < MaxRetryAfter ? wait : MaxRetryAfter, stop);
                }
                catch (OperationCanceledException)
                {
                    // Stopped while waiting: nothing was sent.
                }
            }
        }
    }
}

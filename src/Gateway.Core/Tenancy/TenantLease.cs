using System.Threading.RateLimiting;

namespace Gateway.Tenancy;

/// <summary>
/// What a tenant's admitted request holds for its whole life, queued and in flight: one of its concurrent requests and
/// the tokens reserved for it. When its answer ends the reservation is settled by the answer's usage
/// (<see cref="Settle"/>), given back whole when no tokens were spent (<see cref="Refund"/>), or, when neither is known,
/// kept as charged; disposing the lease gives its concurrent request back.
/// </summary>
internal sealed class TenantLease : IDisposable
{
    private readonly RateLimitLease? _concurrency;
    private readonly TokenBudget? _tokens;
    private int _settled;

    public TenantLease(RateLimitLease? concurrency, TokenBudget? tokens, long reserved)
    {
        _concurrency = concurrency;
        _tokens = tokens;
        Reserved = reserved;
    }

    /// <summary>The tokens reserved for the request (0 for a tenant without a tokens limit).</summary>
    public long Reserved { get; }

    /// <summary>Charges what the answer's usage says the request <paramref name="used"/> instead of its reservation; only once.</summary>
    public void Settle(long used)
    {
        if (Interlocked.Exchange(ref _settled, 1) == 0)
        {
            _tokens?.Settle(Reserved, used);
        }
    }

    /// <summary>Gives the whole reservation back: the request never ran, or its answer was an error that generated nothing.</summary>
    public void Refund() => Settle(0);

    /// <summary>Gives the concurrent request back.</summary>
    public void Dispose() => _concurrency?.Dispose();
}

namespace Gateway.Tenancy;

/// <summary>
/// A tenant's tokens per minute: a bucket that holds at most <see cref="Limit"/> tokens and refills continuously, a
/// limit's worth per minute. A request reserves what it may use before it runs (<see cref="TryReserve"/>); when its
/// answer's usage is known the reservation is settled (<see cref="Settle"/>): what it did not use comes back, and what
/// it used beyond it is taken, even below zero, which the tenant's next requests then wait out.
/// </summary>
/// <remarks>
/// The one limit not built on System.Threading.RateLimiting: its <c>TokenBucketRateLimiter</c> cannot take tokens back
/// (a lease's end returns nothing), its count never goes below zero, and it replenishes on the system clock in whole
/// periods. Reserve-then-settle needs all three, so this is a small bucket of the gateway's own, on a
/// <see cref="TimeProvider"/> so its tests run on a fake clock. The lock guards a few arithmetic operations, never an await.
/// </remarks>
internal sealed class TokenBudget
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly double _perSecond;
    private double _balance;
    private long _updatedAt;

    /// <summary>A full bucket of <paramref name="tokensPerMinute"/>.</summary>
    public TokenBudget(int tokensPerMinute, TimeProvider time)
    {
        Limit = tokensPerMinute;
        _time = time;
        _perSecond = tokensPerMinute / 60.0;
        _balance = tokensPerMinute;
        _updatedAt = time.GetTimestamp();
    }

    /// <summary>Tokens per minute, and the most the bucket holds.</summary>
    public int Limit { get; }

    /// <summary>
    /// Takes <paramref name="tokens"/>, at most <see cref="Limit"/> (a larger request waits for a full bucket and its
    /// real usage is charged when known), if the bucket holds them; else says in <paramref name="retryAfter"/> when it will.
    /// </summary>
    public bool TryReserve(long tokens, out long reserved, out TimeSpan retryAfter)
    {
        reserved = Math.Min(tokens, Limit);
        lock (_lock)
        {
            Refill();
            if (_balance >= reserved)
            {
                _balance -= reserved;
                retryAfter = TimeSpan.Zero;
                return true;
            }

            retryAfter = TimeSpan.FromSeconds((reserved - _balance) / _perSecond);
            return false;
        }
    }

    /// <summary>Settles a reservation of <paramref name="reserved"/> tokens by what the request <paramref name="used"/>.</summary>
    public void Settle(long reserved, long used)
    {
        lock (_lock)
        {
            Refill();
            _balance = Math.Min(Limit, _balance + reserved - used);
        }
    }

    /// <summary>Whole tokens left now (none while the tenant is in debt), and how long until the bucket is full again.</summary>
    public (long Remaining, TimeSpan Reset) Read()
    {
        lock (_lock)
        {
            Refill();
            return ((long)Math.Max(0, Math.Floor(_balance)), TimeSpan.FromSeconds((Limit - _balance) / _perSecond));
        }
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        _balance = Math.Min(Limit, _balance + (_time.GetElapsedTime(_updatedAt, now).TotalSeconds * _perSecond));
        _updatedAt = now;
    }
}

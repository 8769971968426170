using System.Threading.RateLimiting;
using Gateway.Model;

namespace Gateway.Tenancy;

/// <summary>
/// One tenant's limits, across every service it uses: requests per minute, tokens per minute and requests at once. A
/// request passes all three before it joins a queue, or none: what it took from one is given back when another turns it
/// away, so a rejected request costs the tenant nothing.
/// </summary>
/// <remarks>
/// Requests per minute are a token bucket (<see cref="TokenBucketRateLimiter"/>) of one minute's requests, refilled
/// evenly over the minute, rather than a sliding window: it is how OpenAI describes its own limits (a burst of the
/// minute's worth, then a steady refill), so <c>x-ratelimit-reset-requests</c> has one meaning, the time until the
/// bucket is full again, which clients written against OpenAI already act on; a sliding window would return its permits
/// segment by segment, with no single time to report. The bucket refills at most once a second, a whole number of
/// requests at a time, chosen so the rate is exact: <c>ceil(rpm / 60)</c> requests every <c>60 s × that / rpm</c>.
/// </remarks>
internal sealed class TenantLimiter : IDisposable
{
    private readonly TokenBucketRateLimiter? _requests;
    private readonly int _requestsPerPeriod;
    private readonly TimeSpan _requestsPeriod;
    private readonly TokenBudget? _tokens;
    private readonly ConcurrencyLimiter? _concurrency;
    private readonly TenantLease _unreserved = new(null, null, 0);

    /// <summary>The limits <paramref name="tenant"/>'s options set; <paramref name="time"/> drives the tokens bucket.</summary>
    public TenantLimiter(Tenant tenant, TimeProvider time)
    {
        Tenant = tenant;
        var limits = tenant.Options.Limits;
        if (limits.RequestsPerMinute is { } rpm)
        {
            _requestsPerPeriod = (rpm + 59) / 60;
            _requestsPeriod = TimeSpan.FromTicks(TimeSpan.TicksPerMinute * _requestsPerPeriod / rpm);
            _requests = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = rpm,
                TokensPerPeriod = _requestsPerPeriod,
                ReplenishmentPeriod = _requestsPeriod,
                AutoReplenishment = true,
                QueueLimit = 0,
            });
        }

        if (limits.TokensPerMinute is { } tpm)
        {
            _tokens = new TokenBudget(tpm, time);
        }

        if (limits.MaxConcurrent is { } concurrent)
        {
            _concurrency = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = concurrent, QueueLimit = 0 });
        }
    }

    /// <summary>The tenant limited.</summary>
    public Tenant Tenant { get; }

    /// <summary>Its requests per minute now, or null when it has no such limit.</summary>
    public RateLimitState? Requests
    {
        get
        {
            if (_requests is null)
            {
                return null;
            }

            var limit = Tenant.Options.Limits.RequestsPerMinute!.Value;
            var remaining = _requests.GetStatistics()!.CurrentAvailablePermits;

            // The refill's own clock is not exposed, so this counts whole periods from now: at most one period late.
            var periods = ((limit - remaining) + _requestsPerPeriod - 1) / _requestsPerPeriod;
            return new RateLimitState(limit, remaining, _requestsPeriod * periods);
        }
    }

    /// <summary>Its tokens per minute now, or null when it has no such limit.</summary>
    public RateLimitState? Tokens
    {
        get
        {
            if (_tokens is null)
            {
                return null;
            }

            var (remaining, reset) = _tokens.Read();
            return new RateLimitState(_tokens.Limit, remaining, reset);
        }
    }

    /// <summary>
    /// Admits a request that may use <paramref name="tokens"/> (prompt and completion, estimated) if every limit lets it:
    /// the lease it holds until its answer ends; else null, and <paramref name="rejection"/> says which limit and when.
    /// Checked in the order that lets each step be undone: concurrency and tokens are given back if requests per
    /// minute, which cannot give a request back, turn it away last.
    /// </summary>
    public TenantLease? TryAcquire(long tokens, out LimitRejection rejection)
    {
        rejection = default;
        RateLimitLease? concurrent = null;
        if (_concurrency is not null)
        {
            concurrent = _concurrency.AttemptAcquire();
            if (!concurrent.IsAcquired)
            {
                concurrent.Dispose();
                rejection = new LimitRejection(TenantLimit.Concurrency, Tenant.Options.Limits.MaxConcurrent!.Value, 0, TimeSpan.Zero);
                return null;
            }
        }

        var reserved = 0L;
        if (_tokens is not null && !_tokens.TryReserve(tokens, out reserved, out var tokensRetryAfter))
        {
            concurrent?.Dispose();
            rejection = new LimitRejection(TenantLimit.Tokens, _tokens.Limit, reserved, tokensRetryAfter);
            return null;
        }

        if (_requests is not null)
        {
            using var request = _requests.AttemptAcquire();
            if (!request.IsAcquired)
            {
                _tokens?.Settle(reserved, 0);
                concurrent?.Dispose();
                var retryAfter = request.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : _requestsPeriod;
                rejection = new LimitRejection(TenantLimit.Requests, Tenant.Options.Limits.RequestsPerMinute!.Value, 0, retryAfter);
                return null;
            }
        }

        return concurrent is null && _tokens is null ? _unreserved : new TenantLease(concurrent, _tokens, reserved);
    }

    public void Dispose()
    {
        _requests?.Dispose();
        _concurrency?.Dispose();
    }
}

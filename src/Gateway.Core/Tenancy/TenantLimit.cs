namespace Gateway.Tenancy;

/// <summary>Which of a tenant's limits turned a request away.</summary>
internal enum TenantLimit
{
    /// <summary><c>Limits:RequestsPerMinute</c>.</summary>
    Requests,

    /// <summary><c>Limits:TokensPerMinute</c>.</summary>
    Tokens,

    /// <summary><c>Limits:MaxConcurrent</c>.</summary>
    Concurrency,
}

/// <summary>
/// Why a tenant's request was turned away: the <paramref name="Limit"/> reached, its configured <paramref name="Value"/>,
/// the tokens the request would have reserved (<paramref name="Requested"/>, for <see cref="TenantLimit.Tokens"/>), and
/// when trying again may succeed (<paramref name="RetryAfter"/>; for <see cref="TenantLimit.Concurrency"/> nobody knows).
/// </summary>
internal readonly record struct LimitRejection(TenantLimit Limit, int Value, long Requested, TimeSpan RetryAfter);

/// <summary>One of a tenant's rates as the <c>x-ratelimit-*</c> headers report it: the limit, what is left now, and how long until it is whole again.</summary>
internal readonly record struct RateLimitState(long Limit, long Remaining, TimeSpan Reset);

using System.Globalization;
using Gateway.Forwarding;
using Gateway.Telemetry;
using Gateway.Tenancy;

namespace Gateway.Requests;

/// <summary>
/// The answer to a request a tenant's limit turned away, as OpenAI answers one: 429, code <c>rate_limit_exceeded</c>,
/// type <c>requests</c> or <c>tokens</c> (a limit on requests at once is one on requests), a message naming the limit,
/// and <c>Retry-After</c>.
/// </summary>
internal static class RateLimitErrors
{
    /// <summary>The error for <paramref name="rejection"/> of <paramref name="tenant"/>'s request, and the reason it is counted under.</summary>
    public static (OpenAIError Error, string Reason) For(string tenant, LimitRejection rejection)
    {
        var retryAfter = RateLimitHeaders.RetryAfterSeconds(rejection.RetryAfter);
        var wait = RateLimitHeaders.Duration(rejection.RetryAfter);
        return rejection.Limit switch
        {
            TenantLimit.Requests => (
                new OpenAIError(429, "requests", "rate_limit_exceeded", string.Create(CultureInfo.InvariantCulture,
                    $"Rate limit reached for tenant {tenant} on requests per min (RPM): Limit {rejection.Value}. Please try again in {wait}."),
                    RetryAfterSeconds: retryAfter),
                RejectionReasons.RateLimitedRequests),
            TenantLimit.Tokens => (
                new OpenAIError(429, "tokens", "rate_limit_exceeded", string.Create(CultureInfo.InvariantCulture,
                    $"Rate limit reached for tenant {tenant} on tokens per min (TPM): Limit {rejection.Value}, Requested {rejection.Requested}. Please try again in {wait}."),
                    RetryAfterSeconds: retryAfter),
                RejectionReasons.RateLimitedTokens),
            _ => (
                new OpenAIError(429, "requests", "rate_limit_exceeded", string.Create(CultureInfo.InvariantCulture,
                    $"Rate limit reached for tenant {tenant} on concurrent requests: Limit {rejection.Value} in flight or waiting. Please try again when one has ended."),
                    RetryAfterSeconds: 1),
                RejectionReasons.RateLimitedConcurrency),
        };
    }
}

using Gateway.Requests;
using Gateway.Tenancy;

namespace Gateway.Tests.Requests;

public sealed class RateLimitErrorsTests
{
    [Fact]
    public void For_Requests_Is429RateLimitExceededOfTypeRequests()
    {
        var (error, reason) = RateLimitErrors.For("chat", new LimitRejection(TenantLimit.Requests, 2, 0, TimeSpan.FromSeconds(30)));

        Assert.Equal((429, "requests", "rate_limit_exceeded", null, 30), (error.StatusCode, error.Type, error.Code, error.Param, error.RetryAfterSeconds));
        Assert.Equal("Rate limit reached for tenant chat on requests per min (RPM): Limit 2. Please try again in 30s.", error.Message);
        Assert.Equal("rate_limited_requests", reason);
    }

    [Fact]
    public void For_Tokens_Is429RateLimitExceededOfTypeTokens_NamingWhatWasAskedFor()
    {
        var (error, reason) = RateLimitErrors.For("batch", new LimitRejection(TenantLimit.Tokens, 1000, 300, TimeSpan.FromSeconds(4.2)));

        Assert.Equal((429, "tokens", "rate_limit_exceeded", 5), (error.StatusCode, error.Type, error.Code, error.RetryAfterSeconds));
        Assert.Equal("Rate limit reached for tenant batch on tokens per min (TPM): Limit 1000, Requested 300. Please try again in 4.2s.", error.Message);
        Assert.Equal("rate_limited_tokens", reason);
    }

    [Fact]
    public void For_Concurrency_Is429RateLimitExceededRetriedAfterASecond()
    {
        var (error, reason) = RateLimitErrors.For("chat", new LimitRejection(TenantLimit.Concurrency, 4, 0, TimeSpan.Zero));

        Assert.Equal((429, "requests", "rate_limit_exceeded", 1), (error.StatusCode, error.Type, error.Code, error.RetryAfterSeconds));
        Assert.Equal("Rate limit reached for tenant chat on concurrent requests: Limit 4 in flight or waiting. Please try again when one has ended.", error.Message);
        Assert.Equal("rate_limited_concurrency", reason);
    }
}

using System.Globalization;
using Gateway.Tenancy;

namespace Gateway.Requests;

/// <summary>
/// OpenAI's rate-limit headers on every answer to a tenant with a requests or tokens limit, success or error:
/// <c>x-ratelimit-limit-requests</c>, <c>x-ratelimit-remaining-requests</c>, <c>x-ratelimit-reset-requests</c> and the
/// same three for tokens, each trio only for a limit the tenant has. They are written as the answer starts (a callback
/// of the response, as it sends its headers), so they hold the state of that moment and survive an answer the gateway
/// clears and writes again (a retry, an error of its own), and a replica's own headers of those names are replaced.
/// </summary>
internal sealed class RateLimitHeaders
{
    private static readonly Func<object, Task> Write = static state =>
    {
        ((RateLimitHeaders)state).WriteNow();
        return Task.CompletedTask;
    };

    private readonly HttpResponse _response;
    private readonly TenantLimiter _limiter;

    private RateLimitHeaders(HttpResponse response, TenantLimiter limiter)
    {
        _response = response;
        _limiter = limiter;
    }

    /// <summary>Has <paramref name="response"/> carry <paramref name="limiter"/>'s headers when it starts.</summary>
    public static void Register(HttpResponse response, TenantLimiter limiter) => response.OnStarting(Write, new RateLimitHeaders(response, limiter));

    /// <summary>
    /// A duration as OpenAI writes its resets (Go's duration format): <c>0s</c>, <c>12ms</c> under a second (rounded up),
    /// else hours, minutes and seconds with at most three decimals: <c>1s</c>, <c>1.5s</c>, <c>6m0s</c>, <c>1h0m0s</c>.
    /// </summary>
    public static string Duration(TimeSpan duration)
    {
        var milliseconds = (long)Math.Ceiling(Math.Max(0, duration.TotalMilliseconds));
        if (milliseconds == 0)
        {
            return "0s";
        }

        if (milliseconds < 1000)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{milliseconds}ms");
        }

        var hours = milliseconds / 3_600_000;
        var minutes = milliseconds / 60_000 % 60;
        var seconds = (milliseconds % 60_000 / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);
        return hours > 0 ? string.Create(CultureInfo.InvariantCulture, $"{hours}h{minutes}m{seconds}s")
            : minutes > 0 ? string.Create(CultureInfo.InvariantCulture, $"{minutes}m{seconds}s")
            : seconds + "s";
    }

    /// <summary>Whole seconds, at least 1, for a <c>Retry-After</c> header.</summary>
    public static int RetryAfterSeconds(TimeSpan wait) => (int)Math.Clamp(Math.Ceiling(wait.TotalSeconds), 1, int.MaxValue);

    private void WriteNow()
    {
        var headers = _response.Headers;
        if (_limiter.Requests is { } requests)
        {
            headers["x-ratelimit-limit-requests"] = requests.Limit.ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-remaining-requests"] = requests.Remaining.ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-reset-requests"] = Duration(requests.Reset);
        }

        if (_limiter.Tokens is { } tokens)
        {
            headers["x-ratelimit-limit-tokens"] = tokens.Limit.ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-remaining-tokens"] = tokens.Remaining.ToString(CultureInfo.InvariantCulture);
            headers["x-ratelimit-reset-tokens"] = Duration(tokens.Reset);
        }
    }
}

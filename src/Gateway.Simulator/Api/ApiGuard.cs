using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Gateway.Simulator.Options;

namespace Gateway.Simulator.Api;

/// <summary>
/// What a hosted API checks before any work, so the simulator can stand in for one: the key (<c>--api-key</c>, compared
/// in constant time; 401 without it) and a rate limit on requests (<c>--max-requests-per-second</c>; 429 with
/// <c>Retry-After</c> until the second is over). Only <c>/v1/*</c> is guarded, as vLLM guards it.
/// </summary>
internal sealed class ApiGuard : IDisposable
{
    private readonly byte[]? _key;
    private readonly FixedWindowRateLimiter? _limiter;

    public ApiGuard(SimulatorOptions options)
    {
        _key = options.ApiKey is { } key ? Encoding.UTF8.GetBytes(key) : null;
        if (options.RequestsPerSecondLimit > 0)
        {
            _limiter = new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
            {
                PermitLimit = options.RequestsPerSecondLimit,
                Window = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        }
    }

    /// <summary>Whether anything is guarded at all; the middleware is left out when not.</summary>
    public bool IsActive => _key is not null || _limiter is not null;

    /// <summary>Middleware: answers the request itself when it lacks the key or is over the rate, else passes it on.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal))
        {
            await next(context);
            return;
        }

        if (_key is not null && !HasKey(context.Request))
        {
            await new ApiError(401, "AuthenticationError", "Incorrect or missing API key.").WriteAsync(context.Response);
            return;
        }

        if (_limiter is not null)
        {
            using var lease = _limiter.AttemptAcquire();
            if (!lease.IsAcquired)
            {
                var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                await new ApiError(429, "RateLimitError", "Rate limit reached: too many requests per second.")
                    .WriteAsync(context.Response, seconds.ToString(CultureInfo.InvariantCulture));
                return;
            }
        }

        await next(context);
    }

    public void Dispose() => _limiter?.Dispose();

    private bool HasKey(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string Bearer = "Bearer ";
        if (!header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Hashing both sides first makes the comparison's time independent of the key's length too.
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(header[Bearer.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(given, SHA256.HashData(_key!));
    }
}

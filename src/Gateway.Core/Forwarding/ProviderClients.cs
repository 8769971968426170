using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers.Hosted;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// One HTTP client per provider pool (a hosted OpenAI-compatible API), apart from the replicas' shared one: TLS validated
/// against the pool's <see cref="ProviderTrust"/> (host name included), and a resilience pipeline per pool. Each attempt
/// has <see cref="ProviderSourceOptions.AttemptTimeoutSeconds"/> until the answer's headers; a 429 or 5xx (or a lost
/// connection) is tried again up to <see cref="ProviderSourceOptions.MaxRetries"/> times, after the provider's
/// <c>Retry-After</c> when it gives one (at most <see cref="MaxRetryAfter"/>; a longer one is answered at once, and the
/// request goes back to the queue), else backing off; a circuit breaker opens when most recent attempts failed, taking
/// the pool's replica out of placement for <see cref="ProviderSourceOptions.BreakSeconds"/>, then lets one request try.
/// The body goes from memory, so an attempt again sends the same bytes.
/// </summary>
internal sealed partial class ProviderClients : IDisposable
{
    /// <summary>The longest <c>Retry-After</c> waited for inside one request.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(10);

    private readonly Dictionary<PoolOptions, HttpMessageInvoker> _clients = [];

    public ProviderClients(GatewayTopology topology, ProviderTrust trust, ForwardingOptions forwarding, ILogger<ProviderClients> logger)
    {
        foreach (var service in topology.Services)
        {
            foreach (var pool in service.Pools)
            {
                if (pool.Options.Provider is { } provider)
                {
                    _clients[pool.Options] = Create(pool, provider, trust.RootsFor(pool.Options), forwarding, logger);
                }
            }
        }
    }

    /// <summary>The client of <paramref name="pool"/>, a provider pool.</summary>
    public HttpMessageInvoker For(Pool pool) => _clients[pool.Options];

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
    }

    private static HttpMessageInvoker Create(
        Pool pool, ProviderSourceOptions provider, X509Certificate2Collection? roots, ForwardingOptions forwarding, ILogger logger)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = TimeSpan.FromSeconds(forwarding.ConnectTimeoutSeconds),

            // A hosted API's addresses move behind its name; connections are renewed to follow them.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),

            // As YARP does for the replicas' client: a client's traceparent copied with its headers gives way to the
            // gateway's own attempt span when tracing is on (HttpClient would otherwise keep the copied one).
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
        };

        if (roots is not null)
        {
            // Only the given roots: a private CA, or the certificate made for a stand-in. The host name is still checked.
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(roots);
            handler.SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy };
        }

        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(provider.MaxRetries, 1),
                ShouldRetryAfterHeader = true,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(500),
                MaxDelay = MaxRetryAfter,
                ShouldHandle = args => ValueTask.FromResult(provider.MaxRetries > 0 && ShouldRetry(args.Outcome)),
                OnRetry = args =>
                {
                    LogRetry(logger, pool.Name, args.Outcome.Result?.StatusCode is { } status ? (int)status : 0, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds);
                    return default;
                },
            })
            .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 5,
                SamplingDuration = TimeSpan.FromSeconds(Math.Max(30, provider.BreakSeconds)),
                BreakDuration = TimeSpan.FromSeconds(provider.BreakSeconds),
                OnOpened = args =>
                {
                    LogOpened(logger, pool.Name, args.BreakDuration.TotalSeconds);
                    SetHealthy(pool, false);
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    SetHealthy(pool, true);
                    return default;
                },
                OnClosed = _ =>
                {
                    SetHealthy(pool, true);
                    return default;
                },
            })
            .AddTimeout(TimeSpan.FromSeconds(provider.AttemptTimeoutSeconds))
            .Build();

        return new HttpMessageInvoker(new BufferedRequestBodyHandler(new ResilienceHandler(pipeline) { InnerHandler = handler }), disposeHandler: true);
    }

    /// <summary>
    /// What is tried again: a lost connection, a 429 or 503 whose <c>Retry-After</c> (if any) is short enough, a 500,
    /// 502 or 504. Not an attempt that timed out (a <see cref="TimeoutRejectedException"/>): the provider may be generating
    /// that answer and would be paid twice; nor an open circuit (a <see cref="BrokenCircuitException"/>).
    /// </summary>
    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome)
    {
        if (outcome.Exception is { } exception)
        {
            // A certificate refused is refused again.
            return exception is HttpRequestException { HttpRequestError: not HttpRequestError.SecureConnectionError };
        }

        var response = outcome.Result!;
        return (int)response.StatusCode switch
        {
            429 or 503 => RetryAfter(response) is not { } after || after <= MaxRetryAfter,
            500 or 502 or 504 => true,
            _ => false,
        };
    }

    /// <summary>The wait a <c>Retry-After</c> asks for, in seconds or as a date; null without one.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            // The certificate check needs the wall clock anyway; a date is rare and read against it.
            { Date: { } date } => date - TimeProvider.System.GetUtcNow(),
            _ => null,
        };

    private static void SetHealthy(Pool pool, bool healthy)
    {
        foreach (var replica in pool.Snapshot)
        {
            replica.SetHealthy(healthy);
        }
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Provider pool {Pool} answered {Status}; attempt {Attempt} follows in {Seconds:0.##} s")]
    private static partial void LogRetry(ILogger logger, string pool, int status, int attempt, double seconds);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Provider pool {Pool} failed too often: it takes no request for {Seconds} s")]
    private static partial void LogOpened(ILogger logger, string pool, double seconds);
}

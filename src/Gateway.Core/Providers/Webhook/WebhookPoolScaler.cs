using System.Buffers;
using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Gateway.Providers;

/// <summary>
/// Scales a pool by POSTing the replica count it should have to a URL, for clouds with a scaling API of their own
/// (behind a small adapter): <c>{"service", "namespace", "pool", "desiredReplicas", "currentReplicas", "reason"}</c>,
/// and on scale-in also <c>"replica"</c>, the address of the drained replica to stop. The count is absolute, so
/// asking twice for the same count adds nothing. The replicas it starts reach the pool through the pool's source:
/// for a Static pool, its addresses are candidates that join once their <c>/health</c> answers.
/// </summary>
/// <remarks>
/// The pool's named client holds the resilience pipeline built from <see cref="WebhookScalerOptions"/> (see
/// <see cref="AddPipeline"/>). A call that fails after its retries, or finds the circuit open, throws: the scaling loop
/// logs it and the controller asks again on a later tick.
/// </remarks>
internal sealed partial class WebhookPoolScaler(
    Pool pool, WebhookScalerOptions options, HttpClient client, ILogger<WebhookPoolScaler> logger) : IPoolScaler
{
    /// <summary>How the names of the webhook clients (and so of their resilience pipelines) begin.</summary>
    public const string ClientNamePrefix = "scaling-webhook:";

    /// <summary>The first back-off between two attempts; it doubles for each retry, with jitter.</summary>
    internal static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    // Where the receiver is, for messages: scheme, host and port only, since the path or query may carry a token.
    private readonly string _receiver = new Uri(options.Url).GetLeftPart(UriPartial.Authority);

    /// <summary>The named HTTP client that calls a pool's webhook.</summary>
    public static string ClientName(ServiceOptions service, PoolOptions pool) => $"{ClientNamePrefix}{service.Namespace}/{service.Name}/{pool.Name}";

    /// <summary>The named HTTP client that calls <paramref name="pool"/>'s webhook.</summary>
    public static string ClientName(Pool pool) => $"{ClientNamePrefix}{pool.ServiceNamespace}/{pool.ServiceName}/{pool.Name}";

    /// <summary>Raised before a call that asks for more replicas than the pool counts (webhook candidates scaled in earlier may join again).</summary>
    public event Action? ScalingOut;

    /// <summary>
    /// The pipeline of one pool's webhook client, outermost first: a circuit breaker over whole calls (it opens when
    /// at least two calls within 10 minutes have failed after their retries and none succeeded, and lets one through after
    /// <see cref="WebhookScalerOptions.BreakSeconds"/>); <see cref="WebhookScalerOptions.MaxRetries"/> retries with
    /// exponential back-off from <see cref="RetryDelay"/> on 5xx, 408, 429, no connection and timeouts; and a timeout of
    /// <see cref="WebhookScalerOptions.TimeoutSeconds"/> on each attempt.
    /// </summary>
    /// <remarks>
    /// The breaker sits outside the retries so that one call whose attempts fail and then succeed (a receiver that
    /// restarts) does not open it: it judges the receiver by calls, which come at most once per scale-out window.
    /// A <c>Retry-After</c> is not obeyed: the scaling loop waits on each call, and a receiver could hold it for
    /// hours; the controller asks again on its own schedule.
    /// </remarks>
    public static void AddPipeline(ResiliencePipelineBuilder<HttpResponseMessage> builder, WebhookScalerOptions options)
    {
        builder.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            FailureRatio = 1.0,
            MinimumThroughput = 2,
            SamplingDuration = TimeSpan.FromMinutes(10),
            BreakDuration = TimeSpan.FromSeconds(options.BreakSeconds),
        });
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = RetryDelay,
                ShouldRetryAfterHeader = false,
            });
        }

        builder.AddTimeout(TimeSpan.FromSeconds(options.TimeoutSeconds));
    }

    /// <summary>
    /// Asks for <see cref="ScaleRequest.DesiredReplicas"/>. When that is more than the pool counts, candidates scaled in
    /// earlier may join again; a lowered request lets none back.
    /// </summary>
    public async Task ScaleOutAsync(ScaleRequest request, CancellationToken cancellationToken)
    {
        if (request.DesiredReplicas > request.CurrentReplicas)
        {
            ScalingOut?.Invoke();
        }

        await PostAsync(request, replica: null, cancellationToken);
    }

    /// <summary>
    /// Asks the receiver to stop the drained replica, named by its address. The scaling loop has already retired it
    /// from its provider, so a failed call does not put it back in rotation.
    /// </summary>
    public async Task ScaleInAsync(Replica replica, ScaleRequest request, CancellationToken cancellationToken)
    {
        await PostAsync(request, replica.DestinationPrefix, cancellationToken);
    }

    /// <summary>The JSON body of one call.</summary>
    internal static byte[] Body(ScaleRequest request, string? replica)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("service"u8, request.Pool.ServiceName);
            json.WriteString("namespace"u8, request.Pool.ServiceNamespace);
            json.WriteString("pool"u8, request.Pool.Name);
            json.WriteNumber("desiredReplicas"u8, request.DesiredReplicas);
            json.WriteNumber("currentReplicas"u8, request.CurrentReplicas);
            json.WriteString("reason"u8, request.Reason);
            if (replica is not null)
            {
                json.WriteString("replica"u8, replica);
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private async Task PostAsync(ScaleRequest request, string? replica, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(Body(request, replica));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        HttpResponseMessage response;
        try
        {
            response = await client.PostAsync(new Uri(options.Url), content, cancellationToken);
        }
        catch (BrokenCircuitException e)
        {
            throw new HttpRequestException(
                $"The scaling webhook of pool {pool.Name} at {_receiver} is not called for now: its last calls failed (circuit open for {options.BreakSeconds} s)", e);
        }
        catch (TimeoutRejectedException e)
        {
            throw new HttpRequestException(
                $"The scaling webhook of pool {pool.Name} at {_receiver} did not answer within {options.TimeoutSeconds} s, {options.MaxRetries + 1} times", e);
        }
        catch (HttpRequestException e)
        {
            throw new HttpRequestException(
                $"The scaling webhook of pool {pool.Name} at {_receiver} could not be reached after {options.MaxRetries} retries: {e.Message}", e, e.StatusCode);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                // The body is not read: a receiver's error page may echo what it was sent, tokens included.
                throw new HttpRequestException(
                    $"The scaling webhook of pool {pool.Name} at {_receiver} answered {(int)response.StatusCode} to desiredReplicas {request.DesiredReplicas}",
                    null,
                    response.StatusCode);
            }
        }

        LogAccepted(logger, pool.Name, request.DesiredReplicas, (int)response.StatusCode);
    }

    [LoggerMessage(EventId = 4100, Level = LogLevel.Debug, Message = "The scaling webhook of pool {Pool} accepted desiredReplicas {Desired} ({Status})")]
    private static partial void LogAccepted(ILogger logger, string pool, int desired, int status);
}

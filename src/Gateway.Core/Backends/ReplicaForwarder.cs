using System.Net;
using System.Net.Sockets;
using Gateway.Configuration;
using Gateway.Requests;
using Gateway.Routing;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Backends;

/// <summary>
/// Sends a placed request to its replica with YARP's forwarder, which streams the answer through chunk by
/// chunk and cancels the backend request when the client leaves. The slot is given back when the answer
/// ends. A replica that could not have done the work (it refused or never accepted the connection) is
/// swapped for another one, but only while nothing has reached the client.
/// </summary>
internal sealed partial class ReplicaForwarder
{
    private readonly IHttpForwarder _forwarder;
    private readonly HttpMessageInvoker _client;
    private readonly ForwarderRequestConfig _requestConfig;
    private readonly int _maxAttempts;
    private readonly int _retryAfterSeconds;
    private readonly ILogger<ReplicaForwarder> _logger;

    public ReplicaForwarder(IHttpForwarder forwarder, ForwardingOptions options, ILogger<ReplicaForwarder> logger)
    {
        _forwarder = forwarder;
        _client = new ReplicaHttpClientFactory(options).CreateClient();
        _requestConfig = new ForwarderRequestConfig
        {
            // vLLM speaks HTTP/1.1; the activity timeout bounds the wait for the first byte and any silence after it.
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            ActivityTimeout = TimeSpan.FromSeconds(options.FirstByteTimeoutSeconds),
        };
        _maxAttempts = options.MaxAttempts;
        _retryAfterSeconds = 1;
        _logger = logger;
    }

    /// <summary>Forwards the request to <paramref name="replica"/>, whose slot the caller reserved; always gives the slot back.</summary>
    public async Task ForwardAsync(HttpContext context, InferenceService service, Replica replica, RequestBody body)
    {
        for (var attempt = 1; ; attempt++)
        {
            context.Request.Body = body.OpenRead();
            ForwarderError error;
            try
            {
                error = await _forwarder.SendAsync(context, replica.DestinationPrefix, _client, _requestConfig, HttpTransformer.Default);
            }
            finally
            {
                replica.Release();
            }

            if (error == ForwarderError.None)
            {
                return;
            }

            var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
            if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
            {
                // Past the first byte nothing can be retried; YARP has already ended the response.
                LogForwardFailedAfterStart(_logger, replica.Id, error, exception);
                return;
            }

            var refused = IsConnectFailure(error, exception);
            LogForwardFailed(_logger, replica.Id, error, attempt, refused, exception);
            if (refused && attempt < _maxAttempts && service.Placement.TryReserve(service, avoid: replica) is { } next)
            {
                // The first replica never had the request; the next one gets the same bytes from the start.
                ResetResponse(context);
                replica = next;
                continue;
            }

            ResetResponse(context);
            await ErrorFor(error, exception, replica).WriteAsync(context.Response);
            return;
        }
    }

    private OpenAIError ErrorFor(ForwarderError error, Exception? exception, Replica replica)
    {
        // The connect timeout is a RequestTimedOut too; it is the one with a TimeoutException inside.
        if (IsTimeout(exception))
        {
            return new OpenAIError(504, "server_error", "upstream_timeout",
                $"Replica {replica.Id} did not accept a connection in time.", RetryAfterSeconds: 0);
        }

        if (error == ForwarderError.RequestTimedOut)
        {
            return new OpenAIError(504, "server_error", "upstream_timeout",
                $"Replica {replica.Id} sent no answer in time.", RetryAfterSeconds: 0);
        }

        return new OpenAIError(502, "server_error", "upstream_unavailable",
            $"Replica {replica.Id} could not be reached and no other replica was free.", RetryAfterSeconds: _retryAfterSeconds);
    }

    private static void ResetResponse(HttpContext context)
    {
        context.Features.Set<IForwarderErrorFeature>(null);
        context.Response.Clear();
    }

    /// <summary>Failures where the replica cannot have seen the request: refused, reset before answering, or not accepted in time.</summary>
    private static bool IsConnectFailure(ForwarderError error, Exception? exception)
    {
        // YARP reports both timeouts as RequestTimedOut. Only the connect timeout carries a TimeoutException; the
        // first-byte timeout cancels a read on an accepted request (a SocketException, OperationAborted, inside),
        // so that replica has the request and may be working on it: sending it to another would do it twice.
        if (error == ForwarderError.RequestTimedOut)
        {
            return IsTimeout(exception);
        }

        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } || e is SocketException || e is TimeoutException)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsTimeout(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is TimeoutException)
            {
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Forwarding to {Replica} failed ({Error}, attempt {Attempt}, connect failure {ConnectFailure})")]
    private static partial void LogForwardFailed(ILogger logger, string replica, ForwarderError error, int attempt, bool connectFailure, Exception? exception);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Answer from {Replica} ended early ({Error}) after it had started")]
    private static partial void LogForwardFailedAfterStart(ILogger logger, string replica, ForwarderError error, Exception? exception);
}

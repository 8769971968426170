using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Gateway.Admission;
using Gateway.Configuration;
using Gateway.Health;
using Gateway.Model;
using Gateway.Telemetry;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// Sends a placed request to its replica with YARP's forwarder, which streams the answer through chunk by
/// chunk and cancels the backend request when the client leaves. The slot is given back when the answer
/// ends. A replica that could not have done the work (it refused or dropped the connection before answering,
/// or answered 503) is swapped for another one, but only while nothing has reached the client. A streamed
/// answer whose replica fails mid-way ends with an error event, as vLLM ends its own failed streams.
/// Every answer is reported to the replica's health record.
/// </summary>
#pragma warning disable CA1001 // One for the process's life; its token source is never linked nor timed, so it holds nothing to release.
internal sealed partial class ReplicaForwarder
#pragma warning restore CA1001
{
    private readonly IHttpForwarder _forwarder;
    private readonly HttpMessageInvoker _client;
    private readonly ProviderClients _providers;
    private readonly ForwarderRequestConfig _requestConfig;
    private readonly ReplicaAnswerTransformer _transformer;
    private readonly ReplicaHealthMonitor _health;
    private readonly GatewayMetrics _metrics;
    private readonly int _maxAttempts;
    private readonly long _maxAnswerBytes;
    private readonly int _retryAfterSeconds;
    private readonly TimeProvider _time;
    private readonly ILogger<ReplicaForwarder> _logger;

    // Cancelled when the drain timeout is over: every answer still in flight is ended by the gateway, not left to the
    // host's shutdown timeout, which would cut its client's connection without a word.
    private readonly CancellationTokenSource _drainOver = new();

    public ReplicaForwarder(
        IHttpForwarder forwarder,
        ForwardingOptions options,
        ForwardedHeadersOptions forwarded,
        BackendKeys backendKeys,
        ProviderClients providers,
        ReplicaHealthMonitor health,
        GatewayMetrics metrics,
        TimeProvider time,
        ILogger<ReplicaForwarder> logger)
    {
        _time = time;
        _metrics = metrics;
        _forwarder = forwarder;
        _client = new ReplicaHttpClientFactory(options).CreateClient();
        _providers = providers;
        _requestConfig = new ForwarderRequestConfig
        {
            // vLLM speaks HTTP/1.1; the activity timeout bounds the wait for the first byte and any silence after it.
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            ActivityTimeout = TimeSpan.FromSeconds(options.FirstByteTimeoutSeconds),
        };
        _transformer = new ReplicaAnswerTransformer(new ReplicaRequestHeaders(options, forwarded, backendKeys), options.MaxAnswerBytes);
        _maxAnswerBytes = options.MaxAnswerBytes;
        _health = health;
        _maxAttempts = options.MaxAttempts;
        _retryAfterSeconds = 1;
        _logger = logger;
    }

    /// <summary>
    /// Ends every answer still in flight, for a drain whose timeout is over: a stream that has started gets the
    /// <c>shutting_down</c> error event and <c>data: [DONE]</c>, an answer not started yet a 503 <c>shutting_down</c>, so
    /// the client can retry on another gateway replica.
    /// </summary>
    public void EndAnswersInFlight() => _drainOver.Cancel();

    /// <summary>
    /// Forwards the request to the <paramref name="attempt"/>'s replica, whose slot the caller reserved; always gives
    /// the slot back. Returns the replica that answered last (another one after a retry).
    /// </summary>
    public async Task<Replica> ForwardAsync(HttpContext context, ForwardingAttempt attempt)
    {
        var service = attempt.Service;
        context.Features.Set(attempt);
        try
        {
            while (true)
            {
                var replica = attempt.Replica;
                var body = attempt.OpenBody();
                context.Request.Body = body;
                if (context.Request.ContentLength is not null)
                {
                    // A provider may get the body with its own name for the model, so of another length.
                    context.Request.ContentLength = body.Length;
                }

                ForwarderError error;
                try
                {
                    var client = replica.Pool.IsProvider ? _providers.For(replica.Pool) : _client;
                    error = await _forwarder.SendAsync(context, replica.DestinationPrefix, client, _requestConfig, _transformer, _drainOver.Token);
                    if (attempt.Rewriter is { } rewriter && !context.RequestAborted.IsCancellationRequested)
                    {
                        await rewriter.CompleteAsync(context.RequestAborted);
                    }
                }
                finally
                {
                    if (attempt.Rewriter is { } rewriter)
                    {
                        context.Response.Body = rewriter.Inner;
                        attempt.Rewriter = null;
                    }

                    attempt.DeferredAbort?.Restore(context);
                    replica.Release();
                }

                if (attempt.ProviderError is { } providerError)
                {
                    // Nothing of the provider's answer went out; the gateway answers in OpenAI's shape.
                    LogProviderError(_logger, replica.Id, providerError.Code, providerError.StatusCode);
                    ResetResponse(context);
                    await providerError.WriteAsync(context.Response);
                    return replica;
                }

                if (attempt.AnswerTooLarge)
                {
                    // The replica did the work, so it is not placed again; nor is it blamed: the limit is the gateway's.
                    LogAnswerTooLarge(_logger, replica.Id, _maxAnswerBytes);
                    await EndTooLargeAnswerAsync(context, attempt);
                    return replica;
                }

                var heldBack = attempt.HeldBack;
                if (error == ForwarderError.None && !heldBack)
                {
                    ReportAnswer(replica, context.Response.StatusCode);
                    return replica;
                }

                var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
                if (heldBack || IsReplicaFault(error))
                {
                    _health.OnTrafficFailure(replica);
                }

                if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
                {
                    // Past the first byte nothing can be retried.
                    LogForwardFailedAfterStart(_logger, replica.Id, error, exception);
                    await EndStartedAnswerAsync(context, attempt, error);
                    return replica;
                }

                var retryable = heldBack || IsNotStarted(error, exception);
                LogForwardFailed(_logger, replica.Id, heldBack ? "answered 503" : error.ToString(), attempt.Number, retryable, exception);
                ResetResponse(context);
                if (_drainOver.IsCancellationRequested)
                {
                    // The drain ended it, not the replica.
                    await AdmissionErrors.ShuttingDown(attempt.Queue.RetryAfterSeconds).WriteAsync(context.Response);
                    return replica;
                }

                if (!retryable || attempt.Counted >= _maxAttempts)
                {
                    // The cap matters: a request that crashes replicas must not go on to crash them all.
                    await (heldBack ? Overloaded(attempt.Queue, replica) : ErrorFor(error, exception, replica)).WriteAsync(context.Response);
                    return replica;
                }

                // The replica did not do the work: the request goes back to the head of its queue, within the deadline it
                // had on arrival, rather than failing because no other replica is free at this instant.
                var again = await attempt.Queue.RequeueAsync(attempt.Tenant, attempt.AdmittedAt, replica, context.RequestAborted);
                if (again.Replica is not { } next)
                {
                    if (AdmissionErrors.For(attempt.Queue, again.Failure) is { } answer)
                    {
                        // Turned away as a new arrival would be, and counted as one (the pool's answer is counted by the caller).
                        var reason = answer.Code == RejectionReasons.QueueTimeout ? RejectionReasons.QueueTimeout : RejectionReasons.Unavailable;
                        _metrics.Rejected(service.Name, reason);
                        InferenceTelemetry.Rejected(InferenceTelemetry.Span(context), reason);
                        _metrics.Tenant(attempt.Tenant).Rejected(reason);
                        await answer.WriteAsync(context.Response);
                    }

                    return replica;
                }

                // The next replica gets the same bytes from the start.
                var retryReason = heldBack ? RetryReasons.Overloaded : RetryReasons.ConnectionFailed;
                _metrics.Pool(service.Name, replica.Pool.Name).Retried(retryReason);
                var span = InferenceTelemetry.Span(context);
                InferenceTelemetry.Retried(span, replica, retryReason, attempt.Number);
                attempt.Retry(next);
                InferenceTelemetry.Placed(span, next, again.Waited, _time, attempt.Number);
            }
        }
        finally
        {
            context.Features.Set<ForwardingAttempt>(null);
        }
    }

    private void ReportAnswer(Replica replica, int status)
    {
        if (status >= 500)
        {
            _health.OnTrafficFailure(replica);
        }
        else
        {
            ReplicaHealthMonitor.OnTrafficSuccess(replica);
        }
    }

    /// <summary>
    /// YARP has already sent part of the answer. A streamed answer the replica failed to finish (it died, reset
    /// the connection or went silent) ends with an error event and a clean close, as vLLM ends a failed stream;
    /// anything else is cut off as YARP asked, so the client cannot take a truncated answer for a whole one.
    /// </summary>
    private async Task EndStartedAnswerAsync(HttpContext context, ForwardingAttempt attempt, ForwarderError error)
    {
        var replica = attempt.Replica;
        if (attempt.DeferredAbort is not { WasRequested: true } deferredAbort)
        {
            return;
        }

        // The replica failed to go on (Destination is YARP's name for it), or the drain timeout cancelled the copy.
        var endedByDrain = error == ForwarderError.ResponseBodyCanceled && _drainOver.IsCancellationRequested;
        if ((error != ForwarderError.ResponseBodyDestination && !endedByDrain) || context.RequestAborted.IsCancellationRequested)
        {
            deferredAbort.Carry();
            return;
        }

        // A stream the drain timeout cut (ended here, or its replica stopped with the gateway) is the gateway's doing, not the replica's.
        var ended = attempt.Queue.IsClosed
            ? new OpenAIError(503, "server_error", "shutting_down",
                "The gateway shut down before the stream ended; retry, another gateway replica will take the request.")
            : new OpenAIError(502, "server_error", "upstream_disconnected", $"Replica {replica.Id} stopped answering in the middle of the stream.");
        try
        {
            await WriteErrorEventAsync(context.Response, ended, context.TraceIdentifier, context.RequestAborted);
            LogStreamEndedWithError(_logger, replica.Id);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The client left while the event was written; nobody is there to read it.
            deferredAbort.Carry();
        }
    }

    /// <summary>
    /// An answer over <see cref="ForwardingOptions.MaxAnswerBytes"/>: 502 <c>answer_too_large</c> if nothing of it went
    /// out; a stream ends with that error event; a plain answer already under way stays cut off, as YARP left it.
    /// </summary>
    private async Task EndTooLargeAnswerAsync(HttpContext context, ForwardingAttempt attempt)
    {
        var error = new OpenAIError(502, "server_error", "answer_too_large",
            $"Replica {attempt.Replica.Id}'s answer exceeded the gateway's limit of {_maxAnswerBytes} bytes.");
        if (!context.Response.HasStarted)
        {
            ResetResponse(context);
            await error.WriteAsync(context.Response);
            return;
        }

        if (attempt.DeferredAbort is not { } deferredAbort || context.RequestAborted.IsCancellationRequested)
        {
            attempt.DeferredAbort?.Carry();
            return;
        }

        try
        {
            await WriteErrorEventAsync(context.Response, error, context.TraceIdentifier, context.RequestAborted);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException)
        {
            deferredAbort.Carry();
        }
    }

    /// <summary>
    /// vLLM's end of a failed stream: a <c>data:</c> event holding the error object, then <c>[DONE]</c>. The leading
    /// blank line closes the last event should the replica have stopped between its lines.
    /// </summary>
    private static async Task WriteErrorEventAsync(HttpResponse response, OpenAIError error, string requestId, CancellationToken cancellationToken)
    {
        var writer = response.BodyWriter;
        writer.Write("\ndata: "u8);
        using (var json = new Utf8JsonWriter(writer))
        {
            error.WriteTo(json, requestId);
        }

        writer.Write("\n\ndata: [DONE]\n\n"u8);
        await writer.FlushAsync(cancellationToken);
    }

    private static OpenAIError Overloaded(ServiceQueue queue, Replica replica) =>
        new(503, "server_error", "upstream_overloaded",
            $"Replica {replica.Id} is overloaded and no other replica was free; retry later.", RetryAfterSeconds: queue.RetryAfterSeconds);

    private OpenAIError ErrorFor(ForwarderError error, Exception? exception, Replica replica)
    {
        // The connect timeout is a RequestTimedOut too; it is the one with a TimeoutException inside.
        if (IsConnectTimeout(exception))
        {
            return new OpenAIError(504, "server_error", "upstream_timeout",
                $"Replica {replica.Id} did not accept a connection in time.", RetryAfterSeconds: 0);
        }

        // A streamed answer's headers come at once; silence after them is a first-byte timeout too.
        if (error == ForwarderError.RequestTimedOut || (error == ForwarderError.ResponseBodyDestination && IsCancellation(exception)))
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

    /// <summary>Errors that say something about the replica, not about the client or the gateway.</summary>
    private static bool IsReplicaFault(ForwarderError error) => error is
        ForwarderError.Request or
        ForwarderError.RequestTimedOut or
        ForwarderError.RequestBodyDestination or
        ForwarderError.ResponseHeaders or
        ForwarderError.ResponseBodyDestination;

    /// <summary>
    /// Failures where the replica cannot be doing the work: it refused the connection, did not accept it in time,
    /// or closed or reset it before answering (it crashed, or dropped the request).
    /// </summary>
    private static bool IsNotStarted(ForwarderError error, Exception? exception)
    {
        switch (error)
        {
            // YARP reports both timeouts as RequestTimedOut. Only the connect timeout carries a TimeoutException; the
            // first-byte timeout cancels a read on an accepted request, so that replica has the request and may be
            // working on it: sending it to another would do it twice.
            case ForwarderError.RequestTimedOut:
                return IsConnectTimeout(exception);

            // A streamed answer's headers come at once; a replica that then drops the connection before the first
            // event is gone, while one that stays silent (a cancelled read) may still be working.
            case ForwarderError.ResponseBodyDestination:
                return !IsCancellation(exception) && IsConnectionLoss(exception);

            case ForwarderError.Request:
                return IsConnectionLoss(exception);

            default:
                return false;
        }
    }

    private static bool IsConnectionLoss(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.ResponseEnded }
                || e is HttpIOException { HttpRequestError: HttpRequestError.ResponseEnded }
                || e is SocketException
                || e is TimeoutException

                // A provider's circuit is open: nothing was sent.
                || e is BrokenCircuitException)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsConnectTimeout(Exception? exception)
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

    private static bool IsCancellation(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is OperationCanceledException)
            {
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Forwarding to {Replica} failed ({Error}, attempt {Attempt}, retryable {Retryable})")]
    private static partial void LogForwardFailed(ILogger logger, string replica, string error, int attempt, bool retryable, Exception? exception);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Answer from {Replica} ended early ({Error}) after it had started")]
    private static partial void LogForwardFailedAfterStart(ILogger logger, string replica, ForwarderError error, Exception? exception);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Answer from {Replica} exceeded {MaxAnswerBytes} bytes and was ended by the gateway")]
    private static partial void LogAnswerTooLarge(ILogger logger, string replica, long maxAnswerBytes);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Provider {Replica} answered an error; the client gets {Code} ({Status}) in OpenAI's shape")]
    private static partial void LogProviderError(ILogger logger, string replica, string code, int status);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "Stream from {Replica} ended with an error event")]
    private static partial void LogStreamEndedWithError(ILogger logger, string replica);
}

using System.Globalization;
using System.Text.Json;
using Gateway.Admission;
using Gateway.Configuration;
using Gateway.Forwarding;
using Gateway.Model;
using Gateway.Telemetry;
using Gateway.Tenancy;
using Microsoft.Extensions.Logging;

namespace Gateway.Requests;

/// <summary>
/// The public listener's whole request path, in one direction: find the tenant by its key and the service (Host, else
/// model), read and check the body once, pass the tenant's limits, wait for a slot in the service's queue, forward to
/// the placed replica, answer any failure in OpenAI's error shape, an unexpected one included. Every completion request
/// answered, by a replica or by the gateway itself, is handed to the <see cref="RequestLog"/> as its answer ends.
/// </summary>
internal sealed partial class InferenceEndpoint(
    GatewayTopology topology,
    TenantDirectory tenants,
    TenantLimiters limiters,
    ServiceQueues queues,
    ReplicaForwarder forwarder,
    GatewayMetrics metrics,
    CostMeter cost,
    InferenceTelemetry telemetry,
    RequestLog requestLog,
    GatewayOptions options,
    TimeProvider time,
    ILogger<InferenceEndpoint> logger)
{
    private static readonly string[] PostOnly = ["POST"];
    private static readonly string[] GetOnly = ["GET"];
    private static readonly Func<ILogger, string, IDisposable?> RequestScope = LoggerMessage.DefineScope<string>("RequestId:{RequestId}");

    /// <summary>
    /// Answers one request of the public listener. It first settles the request's id (the client's x-request-id or a new
    /// one), so that every answer and log line carries it. Whatever fails unexpectedly on the way is answered 500 in
    /// OpenAI's shape, naming the request's id, or, once the answer has started, ends it by aborting the connection: a
    /// client never gets an empty 500 or a truncated answer that looks whole.
    /// </summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var requestId = RequestId.Establish(context);
        if (queues.IsClosed)
        {
            // Draining: the client's next request must go to another gateway on a new connection, not reach this one on a
            // kept-alive connection just as it stops listening (which would end that request without an answer).
            context.Response.Headers.Connection = "close";
        }

        using (RequestScope(logger, requestId))
        {
            try
            {
                await DispatchAsync(context);
            }
            catch (Exception e)
            {
                await FailAsync(context, e);
            }
        }
    }

    private Task FailAsync(HttpContext context, Exception exception)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            // The client left (what failed may well be its cancellation): nobody is there to answer.
            return Task.CompletedTask;
        }

        var response = context.Response;
        if (response.HasStarted)
        {
            // A status and maybe part of an answer are out: only a cut connection tells the client it is incomplete.
            LogFailedAnswerAborted(logger, context.TraceIdentifier, context.Request.Method, context.Request.Path.Value, exception);
            context.Abort();
            return Task.CompletedTask;
        }

        LogFailedAnswered500(logger, context.TraceIdentifier, context.Request.Method, context.Request.Path.Value, exception);

        // Headers set before the failure (a replica's, the observer's) are not part of this answer.
        response.Clear();
        return AnswerAsync(context, null, null, new OpenAIError(500, "server_error", "internal_error",
            "The gateway failed unexpectedly; retry, and quote the request id if it keeps failing."));
    }

    private Task DispatchAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value;
        return path switch
        {
            "/v1/chat/completions" => HttpMethods.IsPost(request.Method)
                ? CompleteAsync(context, RequestKind.Chat)
                : AnswerAsync(context, null, null, MethodNotAllowed(context, PostOnly)),
            "/v1/completions" => HttpMethods.IsPost(request.Method)
                ? CompleteAsync(context, RequestKind.Text)
                : AnswerAsync(context, null, null, MethodNotAllowed(context, PostOnly)),
            "/v1/models" => HttpMethods.IsGet(request.Method)
                ? ListModelsAsync(context)
                : AnswerAsync(context, null, null, MethodNotAllowed(context, GetOnly)),
            _ => AnswerAsync(context, null, null, new OpenAIError(404, "invalid_request_error", "unknown_url", $"Invalid URL ({request.Method} {path}).")),
        };
    }

    private async Task CompleteAsync(HttpContext context, RequestKind kind)
    {
        var arrival = time.GetTimestamp();
        var aborted = context.RequestAborted;
        var host = context.Request.Host.Host;
        var service = topology.FindByHost(host);
        if (queues.IsClosed)
        {
            await RejectAsync(context, kind, arrival, service, null, AdmissionErrors.ShuttingDown(service is null ? 1 : queues[service].RetryAfterSeconds));
            return;
        }

        // Before the body is read: a caller without a key costs no more than its headers.
        if (tenants.Authenticate(context.Request.Headers.Authorization) is not { } tenant)
        {
            await RejectAsync(context, kind, arrival, service, null, Unauthorized(context));
            return;
        }

        var limiter = limiters.For(tenant);
        if (limiter is not null)
        {
            // Every answer from here on, the gateway's own errors included, tells the tenant where its limits stand.
            RateLimitHeaders.Register(context.Response, limiter);
        }

        RequestBody? body;
        try
        {
            body = await RequestBody.ReadAsync(context.Request, options.MaxRequestBodyBytes, aborted);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or BadHttpRequestException)
        {
            // The client went away or sent a broken body; there is nobody to answer or nothing to route.
            if (!aborted.IsCancellationRequested && e is BadHttpRequestException bad)
            {
                await RejectAsync(context, kind, arrival, service, tenant, OpenAIError.InvalidRequest("invalid_body", "The request body could not be read: " + bad.Message));
            }

            return;
        }

        if (body is null)
        {
            await RejectAsync(context, kind, arrival, service, tenant, TooLarge(context));
            return;
        }

        using (body)
        {
            var request = InferenceRequest.Parse(body.Span, kind, out var error);
            if (request is not { } inference)
            {
                await RejectAsync(context, kind, arrival, service, tenant, error!, requestBytes: body.Length);
                return;
            }

            // The span is looked up again where it is needed rather than kept across the awaits: a local held there would
            // grow the request's state machine, which is allocated whether tracing is on or off.
            InferenceTelemetry.Requested(InferenceTelemetry.Span(context), context.TraceIdentifier, Operation(kind), inference.Model, inference.MaxTokens, inference.Stream);

            service ??= topology.FindByModel(inference.Model);
            if (service is null)
            {
                await RejectAsync(context, kind, arrival, null, tenant, new OpenAIError(404, "invalid_request_error", "model_not_found",
                    $"No service answers to host '{host}' and none serves model '{inference.Model}'.", "model"), inference, body.Length);
                return;
            }

            if (!tenant.MayUse(service))
            {
                await RejectAsync(context, kind, arrival, service, tenant, new OpenAIError(403, "invalid_request_error", "model_not_allowed",
                    $"Tenant {tenant.Name} may not use service {service.Name}.", "model"), inference, body.Length);
                return;
            }

            InferenceTelemetry.Routed(InferenceTelemetry.Span(context), service, tenant);

            // The tenant's limits come before the queue: a request they turn away never takes a place in it.
            TenantLease? lease = null;
            if (limiter is not null)
            {
                lease = limiter.TryAcquire(TokenEstimate.For(body.Length, inference.MaxTokens, service.Options), out var limited);
                if (lease is null)
                {
                    var (tooMuch, reason) = RateLimitErrors.For(tenant.Name, limited);
                    await RejectAsync(context, kind, arrival, service, tenant, tooMuch, inference, body.Length, reason: reason);
                    return;
                }
            }

            try
            {
                var queue = queues[service];
                var admittedAt = time.GetTimestamp();
                var admission = await queue.AcquireAsync(tenant, aborted);
                if (admission.Replica is not { } replica)
                {
                    // Nothing ran, so nothing is charged.
                    lease?.Refund();
                    if (AdmissionErrors.For(queue, admission.Failure) is { } rejection)
                    {
                        await RejectAsync(context, kind, arrival, service, tenant, rejection, inference, body.Length, admission.Waited);
                    }

                    return;
                }

                metrics.QueueWait(service.Name, tenant.Priority, admission.Waited);
                InferenceTelemetry.Placed(InferenceTelemetry.Span(context), replica, admission.Waited, time, 1);
                var inFlight = metrics.Tenant(tenant).InFlight;
                inFlight.Inc();
                try
                {
                    await ForwardObservedAsync(context, new ForwardingAttempt(queue, replica, admittedAt, tenant), inference, body, arrival, admission.Waited, lease);
                }
                finally
                {
                    inFlight.Dec();
                }
            }
            finally
            {
                // Held while queued and in flight: the tenant's concurrent request ends with its answer.
                lease?.Dispose();
            }
        }
    }

    /// <summary>
    /// Forwards through an <see cref="AnswerObserver"/>, charges the tenant's <paramref name="lease"/> what the answer used,
    /// records the answer's metrics on the pool that served it and for the tenant, and hands its line, with the
    /// <paramref name="queueWait"/> before its first placement, to the request log.
    /// </summary>
    private async Task ForwardObservedAsync(
        HttpContext context, ForwardingAttempt attempt, InferenceRequest inference, RequestBody body, long arrival, TimeSpan queueWait, TenantLease? lease)
    {
        var replica = attempt.Replica;
        // A stream that did not ask for usage is asked for it on its behalf, so its tokens can be counted.
        var withUsage = inference.Stream && !inference.HasStreamOptions && options.Forwarding.AskForStreamUsage ? body.WithStreamUsage() : null;
        if (withUsage is not null && context.Request.ContentLength is not null)
        {
            context.Request.ContentLength = withUsage.Length;
        }

        var response = context.Response;
        var clientBody = response.Body;
        var observer = new AnswerObserver(response, time, arrival, dropUsageEvents: withUsage is not null, options.Forwarding.MaxAnswerBytes);
        response.Body = observer;
        Replica served;
        try
        {
            attempt.Body = (withUsage ?? body).Bytes;
            attempt.Model = inference.Model;
            served = await forwarder.ForwardAsync(context, attempt);
            await observer.CompleteAsync(context.RequestAborted);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client left while the end of the answer was written; the answer is still counted below.
            served = replica;
        }
        finally
        {
            response.Body = clientBody;
            withUsage?.Dispose();
            await observer.DisposeAsync();
        }

        // First the tenant's tokens, so its next request finds them settled: what the usage says it used; nothing for an
        // error answer without usage (it generated nothing); an answer without usage keeps what was reserved for it.
        if (observer.PromptTokens is not null || observer.CompletionTokens is not null)
        {
            lease?.Settle((observer.PromptTokens ?? 0) + (observer.CompletionTokens ?? 0));
        }
        else if (response.StatusCode >= 400)
        {
            lease?.Refund();
        }

        // Read here rather than held across the awaits, so the state machine keeps its size with the queue wait added.
        var service = attempt.Service;
        var instruments = metrics.Pool(service.Name, served.Pool.Name);
        var perTenant = metrics.Tenant(attempt.Tenant);
        var duration = time.GetElapsedTime(arrival);
        instruments.Answered(response.StatusCode);
        perTenant.Answered(service.Name, response.StatusCode);
        instruments.Duration.Observe(duration.TotalSeconds);
        if (observer.TimeToFirstToken is { } firstToken && response.StatusCode < 400)
        {
            instruments.TimeToFirstToken.Observe(firstToken.TotalSeconds);
        }

        if (observer.PromptTokens is { } prompt)
        {
            instruments.PromptTokens.Inc(prompt);
            perTenant.PromptTokens.Inc(prompt);
        }

        if (observer.CompletionTokens is { } completion)
        {
            instruments.CompletionTokens.Inc(completion);
            perTenant.CompletionTokens.Inc(completion);
        }

        cost.Answered(served.Pool, observer.PromptTokens ?? 0, observer.CompletionTokens ?? 0);
        telemetry.Answered(Operation(inference.Kind), service, inference.Model, served.Pool, response.StatusCode, duration,
            observer.TimeToFirstToken, observer.PromptTokens, observer.CompletionTokens);

        // The answer names the model as the client did: vLLM echoes it, and a provider's name for it is put back.
        InferenceTelemetry.Served(InferenceTelemetry.Span(context), service, attempt.Tenant, served, attempt.Number,
            response.StatusCode < 400 ? inference.Model : null, observer.TimeToFirstToken, observer.PromptTokens, observer.CompletionTokens);
        if (requestLog.IsOn)
        {
            requestLog.Add(new RequestLogEntry
            {
                Time = ArrivedAt(arrival),
                Service = service.Name,
                Tenant = attempt.Tenant,
                Kind = Operation(inference.Kind),
                Stream = inference.Stream,
                RequestBytes = body.Length,
                MaxTokens = inference.MaxTokens,
                PromptTokens = observer.PromptTokens,
                CompletionTokens = observer.CompletionTokens,
                Pool = served.Pool.Name,
                Attempts = attempt.Number,
                QueueWait = queueWait,
                TimeToFirstToken = observer.TimeToFirstToken,
                Duration = duration,
                Status = response.StatusCode,
            });
        }
    }

    /// <summary>The wall-clock time of the <see cref="TimeProvider"/> timestamp <paramref name="arrival"/>.</summary>
    private DateTimeOffset ArrivedAt(long arrival) => time.GetUtcNow() - time.GetElapsedTime(arrival);

    /// <summary>
    /// Answers a completion request the gateway turns away itself, as <see cref="AnswerAsync"/> does, and hands its line to
    /// the request log: what is known of it by then (its <paramref name="inference"/> once the body is parsed, the
    /// <paramref name="requestBytes"/> once read, the <paramref name="queueWait"/> once it waited), never placed.
    /// </summary>
    private Task RejectAsync(
        HttpContext context, RequestKind kind, long arrival, InferenceService? service, Tenant? tenant, OpenAIError error,
        InferenceRequest? inference = null, long? requestBytes = null, TimeSpan? queueWait = null, string? reason = null)
    {
        reason ??= RejectionReason(error);
        if (requestLog.IsOn)
        {
            requestLog.Add(new RequestLogEntry
            {
                Time = ArrivedAt(arrival),
                Service = service?.Name,
                Tenant = tenant,
                Kind = Operation(kind),
                Stream = inference?.Stream,
                RequestBytes = requestBytes,
                MaxTokens = inference?.MaxTokens,
                QueueWait = queueWait,
                Duration = time.GetElapsedTime(arrival),
                Status = error.StatusCode,
                Reason = reason,
            });
        }

        return AnswerAsync(context, service, tenant, error, reason);
    }

    private static string Operation(RequestKind kind) =>
        kind == RequestKind.Chat ? InferenceTelemetry.ChatOperation : InferenceTelemetry.TextCompletionOperation;

    /// <summary>
    /// Answers a request the gateway turns away itself, and counts it with <c>pool="none"</c>, and for its tenant when it
    /// is known (an unknown key's 401 is nobody's); <paramref name="reason"/> when the error's code does not say it.
    /// </summary>
    private Task AnswerAsync(HttpContext context, InferenceService? service, Tenant? tenant, OpenAIError error, string? reason = null)
    {
        var serviceName = service?.Name ?? GatewayMetrics.NoPool;
        reason ??= RejectionReason(error);
        metrics.Rejected(serviceName, reason);
        InferenceTelemetry.Rejected(InferenceTelemetry.Span(context), reason);
        metrics.Pool(serviceName, GatewayMetrics.NoPool).Answered(error.StatusCode);
        if (tenant is not null)
        {
            var instruments = metrics.Tenant(tenant);
            instruments.Rejected(reason);
            instruments.Answered(serviceName, error.StatusCode);
        }

        return error.WriteAsync(context.Response);
    }

    private static string RejectionReason(OpenAIError error) => error.Code switch
    {
        "queue_full" => RejectionReasons.QueueFull,
        "queue_timeout" => RejectionReasons.QueueTimeout,
        "shed" => RejectionReasons.Shed,
        "internal_error" => RejectionReasons.InternalError,
        _ => error.StatusCode switch
        {
            413 => RejectionReasons.TooLarge,
            401 => RejectionReasons.Unauthorized,
            403 => RejectionReasons.Forbidden,
            404 => RejectionReasons.NotFound,
            >= 500 => RejectionReasons.Unavailable,
            _ => RejectionReasons.BadRequest,
        },
    };

    private OpenAIError TooLarge(HttpContext context)
    {
        // Do not read the rest of an oversized body; close the connection after answering.
        context.Response.Headers.Connection = "close";
        return new OpenAIError(413, "invalid_request_error", "request_too_large",
            string.Create(CultureInfo.InvariantCulture, $"The request body is larger than {options.MaxRequestBodyBytes} bytes."));
    }

    private static OpenAIError MethodNotAllowed(HttpContext context, string[] allowed)
    {
        context.Response.Headers.Allow = allowed;
        return new OpenAIError(405, "invalid_request_error", "method_not_allowed",
            $"{context.Request.Method} is not allowed on {context.Request.Path}; use {string.Join(", ", allowed)}.");
    }

    /// <summary>401 <c>invalid_api_key</c> with a Bearer challenge: no key, or one that is no tenant's.</summary>
    private static OpenAIError Unauthorized(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return new OpenAIError(401, "invalid_request_error", "invalid_api_key", "Missing or unknown API key; send it as 'Authorization: Bearer <key>'.");
    }

    /// <summary>The models of the service the Host names, or of all, that the caller's tenant may use; it needs a key as a completion does.</summary>
    private async Task ListModelsAsync(HttpContext context)
    {
        var named = topology.FindByHost(context.Request.Host.Host);
        if (tenants.Authenticate(context.Request.Headers.Authorization) is not { } tenant)
        {
            await AnswerAsync(context, named, null, Unauthorized(context));
            return;
        }

        var response = context.Response;
        response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(response.BodyWriter))
        {
            json.WriteStartObject();
            json.WriteString("object"u8, "list"u8);
            json.WriteStartArray("data"u8);
            var created = time.GetUtcNow().ToUnixTimeSeconds();
            foreach (var service in topology.Services)
            {
                if ((named is not null && !ReferenceEquals(service, named)) || !tenant.MayUse(service))
                {
                    continue;
                }

                foreach (var model in service.Models)
                {
                    json.WriteStartObject();
                    json.WriteString("id"u8, model);
                    json.WriteString("object"u8, "model"u8);
                    json.WriteNumber("created"u8, created);
                    json.WriteString("owned_by"u8, $"{service.Name}.{service.Namespace}");
                    json.WriteEndObject();
                }
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Error, Message = "Request {RequestId} ({Method} {Path}) failed unexpectedly; answered 500 internal_error")]
    private static partial void LogFailedAnswered500(ILogger logger, string requestId, string method, string? path, Exception exception);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error,
        Message = "Request {RequestId} ({Method} {Path}) failed unexpectedly after its answer had started; the connection is aborted")]
    private static partial void LogFailedAnswerAborted(ILogger logger, string requestId, string method, string? path, Exception exception);
}

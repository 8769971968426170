using System.Globalization;
using System.Text.Json;
using Gateway.Admission;
using Gateway.Backends;
using Gateway.Configuration;
using Gateway.Hosting;
using Gateway.Routing;

namespace Gateway.Requests;

/// <summary>
/// The public listener's whole request path, in one direction: find the service (Host, else model), read
/// and check the body once, wait for a slot in the service's queue, forward to the placed replica, answer
/// any failure in OpenAI's error shape.
/// </summary>
internal sealed class InferenceEndpoint(
    GatewayTopology topology, ReplicaForwarder forwarder, GatewayDrain drain, GatewayOptions options, TimeProvider time)
{
    private static readonly string[] PostOnly = ["POST"];
    private static readonly string[] GetOnly = ["GET"];

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value;
        return path switch
        {
            "/v1/chat/completions" => HttpMethods.IsPost(request.Method)
                ? CompleteAsync(context, RequestKind.Chat)
                : MethodNotAllowed(context, PostOnly),
            "/v1/completions" => HttpMethods.IsPost(request.Method)
                ? CompleteAsync(context, RequestKind.Text)
                : MethodNotAllowed(context, PostOnly),
            "/v1/models" => HttpMethods.IsGet(request.Method)
                ? ListModelsAsync(context)
                : MethodNotAllowed(context, GetOnly),
            _ => new OpenAIError(404, "invalid_request_error", "unknown_url", $"Invalid URL ({request.Method} {path}).").WriteAsync(context.Response),
        };
    }

    private async Task CompleteAsync(HttpContext context, RequestKind kind)
    {
        var aborted = context.RequestAborted;
        var host = context.Request.Host.Host;
        var service = topology.FindByHost(host);
        if (drain.IsDraining)
        {
            await ShuttingDown(service?.Queue.RetryAfterSeconds ?? 1).WriteAsync(context.Response);
            return;
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
                await OpenAIError.InvalidRequest("invalid_body", "The request body could not be read: " + bad.Message).WriteAsync(context.Response);
            }

            return;
        }

        if (body is null)
        {
            await TooLarge(context);
            return;
        }

        using (body)
        {
            var request = InferenceRequest.Parse(body.Span, kind, out var error);
            if (request is not { } inference)
            {
                await error!.WriteAsync(context.Response);
                return;
            }

            service ??= topology.FindByModel(inference.Model);
            if (service is null)
            {
                await new OpenAIError(404, "invalid_request_error", "model_not_found",
                    $"No service answers to host '{host}' and none serves model '{inference.Model}'.", "model").WriteAsync(context.Response);
                return;
            }

            var admission = await service.Queue.AcquireAsync(aborted);
            if (admission.Replica is not { } replica)
            {
                await RejectAsync(context, service, admission.Failure);
                return;
            }

            await forwarder.ForwardAsync(context, service, replica, body);
        }
    }

    private static Task RejectAsync(HttpContext context, InferenceService service, AdmissionFailure failure)
    {
        var retryAfter = service.Queue.RetryAfterSeconds;
        return failure switch
        {
            AdmissionFailure.QueueFull => new OpenAIError(429, "rate_limit_error", "queue_full",
                $"Service {service.Name} is at capacity and its queue is full; retry later.", RetryAfterSeconds: retryAfter).WriteAsync(context.Response),
            AdmissionFailure.QueueTimeout => new OpenAIError(503, "server_error", "queue_timeout",
                $"Service {service.Name} had no free replica within the queue's wait limit; retry later.", RetryAfterSeconds: retryAfter).WriteAsync(context.Response),
            AdmissionFailure.Draining => ShuttingDown(retryAfter).WriteAsync(context.Response),

            // The client is gone: nothing to answer, and no backend ever saw the request.
            _ => Task.CompletedTask,
        };
    }

    /// <summary>The answer to new work while the gateway drains: another gateway replica can take it.</summary>
    internal static OpenAIError ShuttingDown(int retryAfterSeconds) => new(503, "server_error", "shutting_down",
        "The gateway is shutting down; retry, another gateway replica will take the request.", RetryAfterSeconds: retryAfterSeconds);

    private Task TooLarge(HttpContext context)
    {
        // Do not read the rest of an oversized body; close the connection after answering.
        context.Response.Headers.Connection = "close";
        return new OpenAIError(413, "invalid_request_error", "request_too_large",
            string.Create(CultureInfo.InvariantCulture, $"The request body is larger than {options.MaxRequestBodyBytes} bytes.")).WriteAsync(context.Response);
    }

    private static Task MethodNotAllowed(HttpContext context, string[] allowed)
    {
        context.Response.Headers.Allow = allowed;
        return new OpenAIError(405, "invalid_request_error", "method_not_allowed",
            $"{context.Request.Method} is not allowed on {context.Request.Path}; use {string.Join(", ", allowed)}.").WriteAsync(context.Response);
    }

    private async Task ListModelsAsync(HttpContext context)
    {
        var named = topology.FindByHost(context.Request.Host.Host);
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
                if (named is not null && !ReferenceEquals(service, named))
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
}

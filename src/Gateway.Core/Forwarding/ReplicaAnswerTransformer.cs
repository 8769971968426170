using System.Net;
using Gateway.Model;
using Gateway.Telemetry;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// Every replica's request and answer handling: YARP's default header copying and the proxy's own headers
/// (<see cref="ReplicaRequestHeaders"/>), the replica's API addresses (built
/// once, see <see cref="Replica.ChatCompletionsAddress"/>), the request body handed to
/// <see cref="BufferedRequestBodyHandler"/>, plus two decisions taken when a replica's answer arrives, before any of
/// it goes to the client, and recorded in the request's <see cref="ForwardingAttempt"/>: a 503 is held back (the
/// replica was too busy to take the request, so another one may), an answer declared longer than
/// <see cref="Configuration.ForwardingOptions.MaxAnswerBytes"/> is not copied, and a streamed answer gets its abort
/// deferred (so that a replica dying mid-stream ends the stream with an error event instead of a cut connection).
/// </summary>
internal sealed class ReplicaAnswerTransformer : HttpTransformer
{
    private readonly ReplicaRequestHeaders _headers;
    private readonly long _maxAnswerBytes;

    /// <summary>One per forwarder: everything per request is in the attempt.</summary>
    public ReplicaAnswerTransformer(ReplicaRequestHeaders headers, long maxAnswerBytes)
    {
        _headers = headers;
        _maxAnswerBytes = maxAnswerBytes;
    }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        var attempt = httpContext.Features.Get<ForwardingAttempt>();
        _headers.Apply(httpContext, proxyRequest, attempt?.Replica.Pool);

        // YARP builds the address only when the transformer has not; any other path or a query string is left to it.
        var request = httpContext.Request;
        if (!request.QueryString.HasValue && attempt is not null)
        {
            proxyRequest.RequestUri = request.Path.Value switch
            {
                "/v1/chat/completions" => attempt.Replica.ChatCompletionsAddress,
                "/v1/completions" => attempt.Replica.CompletionsAddress,
                _ => null,
            };
        }

        // The body is in memory (the forwarder set it): let the client send it with the headers in one write.
        if (proxyRequest.Content is not null && httpContext.Request.Body is MemoryStream body)
        {
            proxyRequest.Options.Set(BufferedRequestBodyHandler.BodyKey, body);
        }

        // Traced: the HTTP client span of this attempt is kept and says which replica and attempt it is.
        if (attempt is not null && InferenceTelemetry.Span(httpContext) is not null)
        {
            proxyRequest.Options.Set(TelemetryServiceCollectionExtensions.AttemptKey, new ReplicaAttempt(attempt.Replica, attempt.Number));
        }
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var attempt = httpContext.Features.Get<ForwardingAttempt>();
        var provider = attempt?.Replica.Pool.IsProvider == true;
        if (attempt is not null && (proxyResponse?.StatusCode == HttpStatusCode.ServiceUnavailable
            || (provider && proxyResponse?.StatusCode == HttpStatusCode.TooManyRequests)))
        {
            // A provider's 429 after its client's retries is a refusal too: the request waits for a GPU instead.
            // No header and no byte of it reaches the client; the forwarder places the request elsewhere or answers itself.
            attempt.HeldBack = true;
            return false;
        }

        if (proxyResponse?.Content.Headers.ContentLength > _maxAnswerBytes && attempt is not null)
        {
            // Declared too large: the forwarder answers instead, before any of it is copied.
            attempt.AnswerTooLarge = true;
            return false;
        }

        if (provider && proxyResponse is { StatusCode: >= HttpStatusCode.BadRequest })
        {
            // A hosted API's own error shape and wording are not the gateway's: answered in OpenAI's shape instead.
            attempt!.ProviderError = await ProviderErrors.ReadAsync(attempt.Replica.Pool, proxyResponse, cancellationToken);
            return false;
        }

        var copyBody = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        if (provider && copyBody)
        {
            ProviderErrors.RemoveAccountHeaders(httpContext.Response.Headers);
            if (attempt!.ProviderModel is { } mapped)
            {
                // The provider's name for the model goes back to the client's, in a plain answer and in every event.
                var rewriter = new ModelNameRewriter(httpContext.Response.Body, mapped, attempt.Model!);
                if (rewriter.ChangesLength)
                {
                    httpContext.Response.ContentLength = null;
                }

                attempt.Rewriter = rewriter;
                httpContext.Response.Body = rewriter;
            }
        }

        // The client gets the gateway's id, whatever the replica echoed (it was sent the same one; a second copy would
        // make the header a list).
        httpContext.Response.Headers[RequestId.HeaderName] = httpContext.TraceIdentifier;
        if (attempt?.Queue.IsClosed == true)
        {
            // An answer that starts while the gateway drains tells the client not to send on this connection again.
            httpContext.Response.Headers.Connection = "close";
        }

        // The header as copied, read as a string: parsing the replica's Content-Type would cost every answer an object.
        if (copyBody && attempt is not null && httpContext.Response.ContentType is { } contentType
            && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            attempt.DeferredAbort = DeferredAbort.Install(httpContext);
        }

        return copyBody;
    }
}

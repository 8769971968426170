using System.Net;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// One replica's request and answer handling: YARP's default header copying, the replica's API addresses built
/// once, the request body handed to <see cref="BufferedRequestBodyHandler"/>, plus two decisions taken when a
/// replica's answer arrives, before any of it goes to the client: a 503 is held back (the replica was too busy to take the request, so another one may), and a
/// streamed answer gets its abort deferred (so that a replica dying mid-stream ends the stream with an error event
/// instead of a cut connection).
/// </summary>
internal sealed class ReplicaAnswerTransformer : HttpTransformer
{
    // The two paths the gateway forwards, as full addresses on this replica: built once instead of YARP's string
    // concatenation and Uri parse on every request.
    private readonly Uri _chatCompletions;
    private readonly Uri _completions;

    /// <summary>The transformer of one replica, whose address is <paramref name="destinationPrefix"/>.</summary>
    public ReplicaAnswerTransformer(string destinationPrefix)
    {
        _chatCompletions = new Uri(destinationPrefix + "/v1/chat/completions");
        _completions = new Uri(destinationPrefix + "/v1/completions");
    }

    /// <summary>
    /// Whether the replica answered 503 and the answer was held back. YARP sets the status before asking the
    /// transformer and reports no error when the body is skipped, so a 503 with no error that never started is one.
    /// </summary>
    public static bool WasHeldBack(HttpContext context, ForwarderError error) =>
        error == ForwarderError.None && !context.Response.HasStarted && context.Response.StatusCode == StatusCodes.Status503ServiceUnavailable;

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

        // YARP builds the address only when the transformer has not; any other path or a query string is left to it.
        var request = httpContext.Request;
        if (!request.QueryString.HasValue)
        {
            proxyRequest.RequestUri = request.Path.Value switch
            {
                "/v1/chat/completions" => _chatCompletions,
                "/v1/completions" => _completions,
                _ => null,
            };
        }

        // The body is in memory (the forwarder set it): let the client send it with the headers in one write.
        if (proxyRequest.Content is not null && httpContext.Request.Body is MemoryStream body)
        {
            proxyRequest.Options.Set(BufferedRequestBodyHandler.BodyKey, body);
        }
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse?.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            // No header and no byte of it reaches the client; the forwarder places the request elsewhere or answers itself.
            return false;
        }

        var copyBody = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);

        // The header as copied, read as a string: parsing the replica's Content-Type would cost every answer an object.
        if (copyBody && httpContext.Response.ContentType is { } contentType && contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            DeferredAbort.Install(httpContext);
        }

        return copyBody;
    }
}

namespace Gateway.Forwarding;

/// <summary>
/// Sends a request body the gateway already holds in memory (read once and checked by the request path)
/// in the same write as the request's headers. YARP's own request content
/// flushes the headers before it copies the body (so a gRPC stream starts at once), which costs the gateway a
/// second send and the replica a second read and wake-up on every request.
/// </summary>
/// <remarks>
/// YARP does not let a transformer replace its request content, so <see cref="ReplicaAnswerTransformer"/> hands the
/// body over in the request's options and this handler, the outermost one of the replica client, swaps the content
/// before anything is written. YARP's content then never starts, which YARP allows for (it waits only for a started
/// body copy).
/// </remarks>
internal sealed class BufferedRequestBodyHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    /// <summary>The request option that carries the body: a stream over the bytes whose buffer is visible.</summary>
    public static readonly HttpRequestOptionsKey<MemoryStream> BodyKey = new("Gateway.BufferedRequestBody");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is { } streamed && request.Options.TryGetValue(BodyKey, out var body) && body.TryGetBuffer(out var bytes))
        {
            var content = new ByteArrayContent(bytes.Array!, bytes.Offset, bytes.Count);

            // The content headers YARP copied from the client (Content-Type, Content-Length), as they were.
            foreach (var header in streamed.Headers.NonValidated)
            {
                foreach (var value in header.Value)
                {
                    content.Headers.TryAddWithoutValidation(header.Key, value);
                }
            }

            request.Content = content;
        }

        return base.SendAsync(request, cancellationToken);
    }
}

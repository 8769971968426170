using Gateway.Configuration;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// YARP's client factory (no proxy, no redirects, no decompression, no cookies), plus the gateway's
/// connect timeout: a replica that does not accept a connection in time is treated as one that refused, and
/// request bodies sent from memory with their headers (<see cref="BufferedRequestBodyHandler"/>).
/// </summary>
internal sealed class ReplicaHttpClientFactory(ForwardingOptions options) : ForwarderHttpClientFactory
{
    /// <summary>The one client every forwarded request shares, so connections to replicas are pooled.</summary>
    public HttpMessageInvoker CreateClient() => CreateClient(new ForwarderHttpClientContext { NewConfig = HttpClientConfig.Empty });

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ConnectTimeout = TimeSpan.FromSeconds(options.ConnectTimeoutSeconds);
    }

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        new BufferedRequestBodyHandler(base.WrapHandler(context, handler));
}

using System.Net;
using Gateway.Configuration;
using Gateway.Forwarding;
using Gateway.Model;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Forwarding;

public sealed class ReplicaRequestHeadersTests
{
    private static ReplicaRequestHeaders Headers(bool keepClientHost = false, params string[] knownNetworks) =>
        new(new ForwardingOptions { KeepClientHost = keepClientHost }, new ForwardedHeadersOptions { KnownNetworks = [.. knownNetworks] }, BackendKeys.None);

    /// <summary>A request from <paramref name="remote"/> to <c>qwen-chat-default.example.com</c>, its headers copied as YARP copies them.</summary>
    private static (HttpContext Context, HttpRequestMessage Proxy) Request(string remote, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext { TraceIdentifier = "req-1" };
        context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("qwen-chat-default.example.com");
        context.Request.Headers.Host = "qwen-chat-default.example.com";
        var proxy = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:8000/v1/chat/completions");
        proxy.Headers.TryAddWithoutValidation("Host", "qwen-chat-default.example.com");
        foreach (var (name, value) in headers)
        {
            context.Request.Headers.Append(name, value);
            if (!string.Equals(name, "Connection", StringComparison.OrdinalIgnoreCase))
            {
                proxy.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return (context, proxy);
    }

    private static string? Value(HttpRequestMessage proxy, string name) =>
        proxy.Headers.NonValidated.TryGetValues(name, out var values) ? values.ToString() : null;

    [Fact]
    public void Apply_UntrustedClient_ReplacesItsForwardedHeadersWithTheGatewaysOwn()
    {
        var (context, proxy) = Request("203.0.113.9", ("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "evil.example"), ("X-Forwarded-Prefix", "/x"), ("Forwarded", "for=1.2.3.4"));

        Headers().Apply(context, proxy, null);

        Assert.Equal(
            ("203.0.113.9", "http", "qwen-chat-default.example.com", null, null),
            (Value(proxy, "X-Forwarded-For"), Value(proxy, "X-Forwarded-Proto"), Value(proxy, "X-Forwarded-Host"),
                Value(proxy, "X-Forwarded-Prefix"), Value(proxy, "Forwarded")));
    }

    [Fact]
    public void Apply_ClientInAKnownNetwork_AppendsToItsForwardedHeaders()
    {
        var (context, proxy) = Request("10.1.2.3", ("X-Forwarded-For", "198.51.100.7"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "api.example.com"));

        Headers(false, "10.0.0.0/8").Apply(context, proxy, null);

        Assert.Equal(
            ("198.51.100.7, 10.1.2.3", "https, http", "api.example.com, qwen-chat-default.example.com"),
            (Value(proxy, "X-Forwarded-For"), Value(proxy, "X-Forwarded-Proto"), Value(proxy, "X-Forwarded-Host")));
    }

    [Fact]
    public void Apply_Ipv4MappedAddress_IsMatchedAndWrittenAsIpv4()
    {
        var (context, proxy) = Request("::ffff:10.1.2.3", ("X-Forwarded-For", "198.51.100.7"));

        Headers(false, "10.0.0.0/8").Apply(context, proxy, null);

        Assert.Equal("198.51.100.7, 10.1.2.3", Value(proxy, "X-Forwarded-For"));
    }

    [Fact]
    public void Apply_HeadersNamedInConnection_AreDropped()
    {
        var (context, proxy) = Request("127.0.0.1", ("Connection", "keep-alive, X-Secret-Hop ,x-other"), ("X-Secret-Hop", "1"), ("X-Other", "2"), ("X-Kept", "3"));

        Headers().Apply(context, proxy, null);

        Assert.Equal((null, null, "3"), (Value(proxy, "X-Secret-Hop"), Value(proxy, "X-Other"), Value(proxy, "X-Kept")));
    }

    [Fact]
    public void Apply_ConnectionNamingNoValidHeaderName_IsIgnored()
    {
        var (context, proxy) = Request("127.0.0.1", ("Connection", "a b, (x), ,"), ("X-Kept", "3"));

        Headers().Apply(context, proxy, null);

        Assert.Equal("3", Value(proxy, "X-Kept"));
    }

    [Fact]
    public void Apply_ClientsAuthorization_NeverReachesTheReplica()
    {
        var (context, proxy) = Request("127.0.0.1", ("Authorization", "Bearer sk-client-key"));

        Headers().Apply(context, proxy, null);

        Assert.Null(Value(proxy, "Authorization"));
    }

    [Fact]
    public void Apply_PoolWithABackendKey_SendsThePoolsKeyInPlaceOfTheClients()
    {
        var options = TestTopology.Options(TestTopology.Service(
            TestTopology.Pool("on-prem", 0, 4, "http://10.0.0.1:8000"), TestTopology.Pool("cloud", 1, 4, "http://10.0.1.1:8000")));
        options.Services[0].Pools[1].BackendKeyEnv = "CLOUD_VLLM_KEY";
        var keys = BackendKeys.Read(options, name => name == "CLOUD_VLLM_KEY" ? "sk-cloud-backend" : null);
        var headers = new ReplicaRequestHeaders(new ForwardingOptions(), new ForwardedHeadersOptions(), keys);
        var pools = new GatewayTopology(options).Services[0].Pools;
        var (toCloud, cloudProxy) = Request("127.0.0.1", ("Authorization", "Bearer sk-client-key"));
        var (toOnPrem, onPremProxy) = Request("127.0.0.1", ("Authorization", "Bearer sk-client-key"));

        headers.Apply(toCloud, cloudProxy, Pool(pools, "cloud"));
        headers.Apply(toOnPrem, onPremProxy, Pool(pools, "on-prem"));

        Assert.Equal("Bearer sk-cloud-backend", Value(cloudProxy, "Authorization"));
        Assert.Null(Value(onPremProxy, "Authorization"));
    }

    private static Pool Pool(IReadOnlyList<Pool> pools, string name) => pools.Single(p => p.Name == name);

    [Theory]
    [InlineData(false, null)]
    [InlineData(true, "qwen-chat-default.example.com")]
    public void Apply_Host_IsTheReplicasUnlessKeepClientHost(bool keepClientHost, string? expected)
    {
        var (context, proxy) = Request("127.0.0.1");

        Headers(keepClientHost).Apply(context, proxy, null);

        // No Host header: HttpClient sends the request address's authority.
        Assert.Equal(expected, proxy.Headers.Host);
    }

    [Fact]
    public void Apply_RequestId_IsTheTraceIdentifierOnceWhateverTheClientSent()
    {
        var (context, proxy) = Request("127.0.0.1", ("x-request-id", "client-sent"));

        Headers().Apply(context, proxy, null);

        Assert.Equal("req-1", Value(proxy, "x-request-id"));
    }
}

using System.Net;
using System.Text;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Xunit.Abstractions;

namespace Gateway.IntegrationTests;

/// <summary>
/// What a replica receives from the gateway: who the client is (X-Forwarded-For/Proto/Host, the client's own spoofed
/// ones dropped), nothing meant for the hop before it (headers named in Connection), its own authority as Host, no client
/// credentials, and the request's id, which the client gets back on the answer and in every error.
/// </summary>
public sealed class ForwardsHeadersAsAProxyShould(ITestOutputHelper output) : IAsyncLifetime
{
    private RecordingReplica _replica = null!;
    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync()
    {
        _replica = await RecordingReplica.StartAsync();
        _gateway = await GatewayFixture.StartAsync(
            [],
            _ => new GatewayOptions { Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, _replica.Address))] });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _replica.DisposeAsync();
    }

    private static HttpRequestMessage Chat(string? requestId)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent("""{"model":"qwen","messages":[{"role":"user","content":"Hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "6.6.6.6");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "spoofed.example");
        request.Headers.TryAddWithoutValidation("Connection", "X-Hop-Secret");
        request.Headers.TryAddWithoutValidation("X-Hop-Secret", "for-the-gateway-only");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer sk-client-key");
        if (requestId is not null)
        {
            request.Headers.TryAddWithoutValidation("x-request-id", requestId);
        }

        return request;
    }

    private Dictionary<string, string> Received()
    {
        var headers = _replica.Requests[^1];
        foreach (var (name, value) in headers.OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase))
        {
            output.WriteLine($"{name}: {value}");
        }

        return headers;
    }

    [Fact]
    public async Task SaneClientRequestId_ReachesTheReplicaWithTheGatewaysForwardedHeaders_AndIsEchoed()
    {
        using var http = _gateway.CreatePublicClient();

        using var response = await http.SendAsync(Chat("client-id-42"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Received();
        Assert.Equal("127.0.0.1", received["X-Forwarded-For"]);
        Assert.Equal("http", received["X-Forwarded-Proto"]);
        Assert.Equal(GatewayFixture.ServiceHost, received["X-Forwarded-Host"]);
        Assert.Equal(_replica.Address.Authority, received["Host"]);
        Assert.Equal("client-id-42", received["x-request-id"]);
        Assert.False(received.ContainsKey("X-Hop-Secret"));
        Assert.False(received.ContainsKey("Authorization"));
        Assert.Equal("client-id-42", Assert.Single(response.Headers.GetValues("x-request-id")));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("has space")]
    public async Task MissingOrInsaneRequestId_IsReplacedByANewOne_SentAndEchoed(string? sent)
    {
        using var http = _gateway.CreatePublicClient();

        using var response = await http.SendAsync(Chat(sent));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var id = Received()["x-request-id"];
        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.Equal(id, Assert.Single(response.Headers.GetValues("x-request-id")));
    }

    [Fact]
    public async Task GatewaysOwnError_CarriesTheRequestIdInHeaderAndMessage()
    {
        using var http = _gateway.CreatePublicClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"Hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("x-request-id", "bad-req-7");

        using var response = await http.SendAsync(request);

        // The assertion checks the message ends with " (request id <the echoed id>)" and gives it back without that.
        var message = await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", "missing_field", "model");
        output.WriteLine(message + " (request id bad-req-7)");
        Assert.Equal("You must provide a 'model' string.", message);
        Assert.Equal("bad-req-7", Assert.Single(response.Headers.GetValues("x-request-id")));
        Assert.Empty(_replica.Requests);
    }
}

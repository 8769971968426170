using System.Net;
using System.Text;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// Every request the gateway cannot route or accept is answered by the gateway itself, with the right status
/// and OpenAI's error shape naming what is wrong. The only replica refuses connections, so an answer that
/// needed a backend would show up as a 502.
/// </summary>
public sealed class BadRequestsGetOpenAIErrors : IAsyncLifetime
{
    private const string Messages = """[{"role":"user","content":"Hi"}]""";

    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await GatewayFixture.StartAsync(
            [],
            _ => new()
            {
                MaxRequestBodyBytes = 2048,
                Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, ClosedPort.Address()))],
            });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private async Task<HttpResponseMessage> PostAsync(string path, string body)
    {
        using var http = _gateway.CreatePublicClient();
        return await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
    }

    [Theory]
    [InlineData("""{"model":"qwen","messages":[""", "invalid_json", null)]
    [InlineData("""not json at all""", "invalid_json", null)]
    [InlineData("""["model","qwen"]""", "invalid_json", null)]
    [InlineData("""{"model":"qwen","messages":[]} trailing""", "invalid_json", null)]
    [InlineData("""{"model":"\udc00","messages":MESSAGES}""", "invalid_json", null)]
    [InlineData("""{"\udc00":1,"model":"qwen","messages":MESSAGES}""", "invalid_json", null)]
    [InlineData("""{"model":"qwen","messages":[{"role":"user","content":"\ud800"}]}""", "invalid_json", null)]
    [InlineData("""{"messages":MESSAGES}""", "missing_field", "model")]
    [InlineData("""{"model":"","messages":MESSAGES}""", "missing_field", "model")]
    [InlineData("""{"model":7,"messages":MESSAGES}""", "invalid_type", "model")]
    [InlineData("""{"model":"qwen"}""", "missing_field", "messages")]
    [InlineData("""{"model":"qwen","messages":"Hi"}""", "invalid_type", "messages")]
    [InlineData("""{"model":"qwen","messages":MESSAGES,"stream":"yes"}""", "invalid_type", "stream")]
    public async Task ChatBody_Invalid_Answers400NamingTheField(string body, string code, string? param)
    {
        using var response = await PostAsync("v1/chat/completions", body.Replace("MESSAGES", Messages, StringComparison.Ordinal));

        await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", code, param);
        Assert.Equal(0L, (await _gateway.StatusAsync())["on-prem-1"].Served);
    }

    [Theory]
    [InlineData(new byte[] { 0xC3 })]
    [InlineData(new byte[] { 0xFF, 0xFE })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    public async Task ChatBody_InvalidUtf8InModel_Answers400InvalidJson(byte[] invalid)
    {
        byte[] body = [.. """{"model":"qwen"""u8, .. invalid, .. "\",\"messages\":[]}"u8];
        using var http = _gateway.CreatePublicClient();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");

        using var response = await http.PostAsync("v1/chat/completions", content);

        var message = await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", "invalid_json");
        Assert.Equal("The request body is not valid JSON: it is not valid UTF-8.", message);
    }

    [Fact]
    public async Task CompletionsBody_WithoutPrompt_Answers400NamingPrompt()
    {
        using var response = await PostAsync("v1/completions", """{"model":"qwen","max_tokens":3}""");

        await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", "missing_field", "prompt");
    }

    [Fact]
    public async Task Body_LargerThanTheLimit_Answers413()
    {
        var body = $$"""{"model":"qwen","messages":[{"role":"user","content":"{{new string('a', 10 * 1024)}}"}]}""";

        using var response = await PostAsync("v1/chat/completions", body);

        var message = await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.RequestEntityTooLarge, "invalid_request_error", "request_too_large");
        Assert.Contains("2048", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Body_ChunkedPastTheLimit_Answers413()
    {
        // No Content-Length: the limit is enforced while reading.
        var body = $$"""{"model":"qwen","messages":[{"role":"user","content":"{{new string('a', 10 * 1024)}}"}]}""";
        using var http = _gateway.CreatePublicClient();
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body)));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await http.SendAsync(request);

        await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.RequestEntityTooLarge, "invalid_request_error", "request_too_large");
    }

    [Fact]
    public async Task UnknownHostAndUnknownModel_Answers404NamingBoth()
    {
        using var http = _gateway.CreatePublicClient("unknown-default.example.com");

        using var response = await http.SendAsync(ChatRequest.Post(maxTokens: 2, model: "no-such-model"));

        var message = await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.NotFound, "invalid_request_error", "model_not_found", "model");
        Assert.Contains("'unknown-default.example.com'", message, StringComparison.Ordinal);
        Assert.Contains("'no-such-model'", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "v1/chat/completions", "POST")]
    [InlineData("PUT", "v1/completions", "POST")]
    [InlineData("POST", "v1/models", "GET")]
    public async Task WrongMethod_Answers405WithAllow(string method, string path, string allowed)
    {
        using var http = _gateway.CreatePublicClient();

        using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.MethodNotAllowed, "invalid_request_error", "method_not_allowed");
        Assert.Equal([allowed], response.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("v1/embeddings")]
    [InlineData("v1/chat/completions/extra")]
    [InlineData("")]
    public async Task UnknownPath_Answers404UnknownUrl(string path)
    {
        using var http = _gateway.CreatePublicClient();

        using var response = await http.GetAsync(path);

        var message = await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.NotFound, "invalid_request_error", "unknown_url");
        Assert.Contains("/" + path, message, StringComparison.Ordinal);
    }
}

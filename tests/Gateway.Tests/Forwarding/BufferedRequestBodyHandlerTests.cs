using System.Text;
using Gateway.Forwarding;

namespace Gateway.Tests.Forwarding;

public sealed class BufferedRequestBodyHandlerTests
{
    [Fact]
    public async Task SendAsync_WithBufferedBody_SendsTheBytesFromMemoryWithTheClientsContentHeaders()
    {
        var bytes = Encoding.UTF8.GetBytes("xx{\"model\":\"qwen\"}yy");
        using var body = new MemoryStream(bytes, 2, bytes.Length - 4, writable: false, publiclyVisible: true);
        var streamed = new StreamContent(new MemoryStream());
        streamed.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=utf-8");
        streamed.Headers.TryAddWithoutValidation("Content-Length", "16");
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:1/v1/chat/completions") { Content = streamed };
        request.Options.Set(BufferedRequestBodyHandler.BodyKey, body);
        var inner = new CapturingHandler();
        using var client = new HttpMessageInvoker(new BufferedRequestBodyHandler(inner));

        using var response = await client.SendAsync(request, CancellationToken.None);

        var sent = Assert.IsType<ByteArrayContent>(inner.Content);
        Assert.Equal("{\"model\":\"qwen\"}", inner.Body);
        Assert.Equal("application/json; charset=utf-8", string.Join(",", sent.Headers.GetValues("Content-Type")));
        Assert.Equal(16, sent.Headers.ContentLength);
    }

    [Fact]
    public async Task SendAsync_WithoutBufferedBody_LeavesTheContentAsItIs()
    {
        var streamed = new StringContent("{}");
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:1/v1/chat/completions") { Content = streamed };
        var inner = new CapturingHandler();
        using var client = new HttpMessageInvoker(new BufferedRequestBodyHandler(inner));

        using var response = await client.SendAsync(request, CancellationToken.None);

        Assert.Same(streamed, inner.Content);
    }

    private sealed class CapturingHandler : HttpMessageHandler
    {
        public HttpContent? Content { get; private set; }

        public string? Body { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Content = request.Content;
            Body = Content is null ? null : await Content.ReadAsStringAsync(cancellationToken);
            return new HttpResponseMessage(System.Net.HttpStatusCode.OK);
        }
    }
}

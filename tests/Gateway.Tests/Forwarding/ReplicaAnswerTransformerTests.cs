using Gateway.Configuration;
using Gateway.Forwarding;
using Gateway.Model;
using Microsoft.AspNetCore.Http;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Forwarding;

public sealed class ReplicaAnswerTransformerTests
{
    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/v1/completions")]
    public async Task TransformRequestAsync_ApiPath_AddressesTheReplicasSameInstanceEveryTime(string path)
    {
        var transformer = NewTransformer();

        var first = await Transform(transformer, path, QueryString.Empty);
        var second = await Transform(transformer, path, QueryString.Empty);

        Assert.Equal(new Uri("http://127.0.0.1:8000" + path), first);
        Assert.Same(first, second);
    }

    [Fact]
    public async Task TransformRequestAsync_QueryStringOrOtherPath_LeavesTheAddressToYarp()
    {
        var transformer = NewTransformer();

        Assert.Null(await Transform(transformer, "/v1/chat/completions", new QueryString("?a=1")));
        Assert.Null(await Transform(transformer, "/v1/models", QueryString.Empty));
    }

    [Fact]
    public async Task TransformRequestAsync_BodyHeldInMemory_HandsItToTheReplicaClient()
    {
        var transformer = NewTransformer();
        using var body = new MemoryStream("{\"model\":\"qwen\"}"u8.ToArray());
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/v1/chat/completions";
        context.Request.Body = body;
        using var proxyRequest = new HttpRequestMessage { Content = new StringContent("streamed by YARP") };

        await transformer.TransformRequestAsync(context, proxyRequest, "http://127.0.0.1:8000", CancellationToken.None);

        // What BufferedRequestBodyHandler reads to send the body with the headers in one write.
        Assert.True(proxyRequest.Options.TryGetValue(BufferedRequestBodyHandler.BodyKey, out var handed));
        Assert.Same(body, handed);
    }

    [Theory]
    [InlineData(1024, false)]
    [InlineData(1025, true)]
    public async Task TransformResponseAsync_DeclaredLength_OverTheLimitIsNotCopied(long contentLength, bool tooLarge)
    {
        var transformer = NewTransformer(maxAnswerBytes: 1024);
        var attempt = NewAttempt();
        var context = new DefaultHttpContext();
        context.Features.Set(attempt);
        using var answer = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new ByteArrayContent(new byte[contentLength]) };

        var copyBody = await transformer.TransformResponseAsync(context, answer, CancellationToken.None);

        Assert.Equal(tooLarge, attempt.AnswerTooLarge);
        Assert.Equal(!tooLarge, copyBody);
    }

    private static ReplicaAnswerTransformer NewTransformer(long maxAnswerBytes = long.MaxValue) =>
        new(new ReplicaRequestHeaders(new ForwardingOptions(), new ForwardedHeadersOptions(), BackendKeys.None), maxAnswerBytes);

    /// <summary>The attempt the forwarder puts in the request's features: the replica at <c>http://127.0.0.1:8000</c>, placed once for all tests.</summary>
    private static readonly ForwardingAttempt Attempt = NewAttempt();

    private static ForwardingAttempt NewAttempt()
    {
        var service = OnePool(capacity: 1);
        var replica = Add(service.OnPrem(), "http://127.0.0.1:8000");
        return new ForwardingAttempt(service.Queue, replica, default, Tenant.Anonymous);
    }

    private static async Task<Uri?> Transform(ReplicaAnswerTransformer transformer, string path, QueryString query)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = path;
        context.Request.QueryString = query;
        context.Features.Set(Attempt);
        using var proxyRequest = new HttpRequestMessage();
        await transformer.TransformRequestAsync(context, proxyRequest, "http://127.0.0.1:8000", CancellationToken.None);
        return proxyRequest.RequestUri;
    }
}

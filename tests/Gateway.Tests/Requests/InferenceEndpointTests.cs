using System.Text;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Hosting;
using Gateway.Requests;
using Gateway.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Requests;

/// <summary>
/// What the public endpoint answers when something on its path throws what nobody expected: here the request body's
/// stream, the first thing the endpoint reads from, fails with an exception no code on the path handles.
/// </summary>
public sealed class InferenceEndpointTests : IAsyncDisposable
{
    private const string Body = """{"model":"qwen","messages":[{"role":"user","content":"secret prompt"}]}""";

    private readonly RecordingLogger<InferenceEndpoint> _logger = new();
    private readonly ServiceProvider _services;

    public InferenceEndpointTests()
    {
        var options = new GatewayOptions
        {
            Services =
            [
                new ServiceOptions
                {
                    Name = "qwen-chat",
                    Namespace = "default",
                    Models = ["qwen"],
                    Pools = [new PoolOptions { Name = "on-prem", Static = ["http://10.0.0.1:8000"] }],
                },
            ],
        };
        _services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<ILogger<InferenceEndpoint>>(_logger)
            .AddInferenceGateway(options)
            .BuildServiceProvider();
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    private InferenceEndpoint Endpoint => _services.GetRequiredService<InferenceEndpoint>();

    private static DefaultHttpContext BrokenBodyRequest()
    {
        // The client's request id becomes the request's identifier.
        var context = new DefaultHttpContext();
        context.Request.Headers["x-request-id"] = "0HN8:00000007";
        context.Request.Method = "POST";
        context.Request.Path = "/v1/chat/completions";
        context.Request.Host = new HostString("qwen-chat-default.example.com");
        context.Request.ContentType = "application/json";
        context.Request.Body = new BrokenStream(Encoding.UTF8.GetBytes(Body));
        context.Response.Body = new MemoryStream();
        return context;
    }

    [Fact]
    public async Task InvokeAsync_UnexpectedException_Answers500InOpenAIShapeNamingTheRequest()
    {
        var context = BrokenBodyRequest();
        context.Response.Headers["x-left-over"] = "from before the failure";

        await Endpoint.InvokeAsync(context);

        Assert.Equal(500, context.Response.StatusCode);
        Assert.Equal("application/json", context.Response.ContentType);
        Assert.False(context.Response.Headers.ContainsKey("x-left-over"));
        using var answer = JsonDocument.Parse(((MemoryStream)context.Response.Body).ToArray());
        var error = answer.RootElement.GetProperty("error");
        Assert.Equal(
            "The gateway failed unexpectedly; retry, and quote the request id if it keeps failing. (request id 0HN8:00000007)",
            error.GetProperty("message").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Equal("internal_error", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task InvokeAsync_UnexpectedException_IsLoggedWithTheRequestIdAndNotTheBody()
    {
        await Endpoint.InvokeAsync(BrokenBodyRequest());

        var entry = Assert.Single(_logger.Entries);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Equal(2001, entry.EventId);
        Assert.Equal("Request 0HN8:00000007 (POST /v1/chat/completions) failed unexpectedly; answered 500 internal_error", entry.Message);
    }

    [Fact]
    public async Task InvokeAsync_UnexpectedException_IsCountedAsARejectionAndA500()
    {
        await Endpoint.InvokeAsync(BrokenBodyRequest());

        var exposition = await ExportAsync(_services.GetRequiredService<GatewayMetrics>());
        Assert.Contains("gateway_rejected_total{service=\"none\",reason=\"internal_error\"} 1\n", exposition, StringComparison.Ordinal);
        Assert.Contains("gateway_requests_total{service=\"none\",pool=\"none\",code=\"500\"} 1\n", exposition, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvokeAsync_UnexpectedExceptionAfterTheAnswerStarted_AbortsTheConnection()
    {
        var context = BrokenBodyRequest();
        var lifetime = new RecordingLifetime();
        context.Features.Set<IHttpRequestLifetimeFeature>(lifetime);
        context.Features.Set<IHttpResponseFeature>(new StartedResponse());

        await Endpoint.InvokeAsync(context);

        Assert.True(lifetime.Aborted);
        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal(0, context.Response.Body.Length);
        var entry = Assert.Single(_logger.Entries);
        Assert.Equal(2002, entry.EventId);
        Assert.Equal(
            "Request 0HN8:00000007 (POST /v1/chat/completions) failed unexpectedly after its answer had started; the connection is aborted",
            entry.Message);
    }

    [Fact]
    public async Task InvokeAsync_ClientGoneWhenItFails_AnswersAndLogsNothing()
    {
        var context = BrokenBodyRequest();
        using var gone = new CancellationTokenSource();
        await gone.CancelAsync();
        context.RequestAborted = gone.Token;

        await Endpoint.InvokeAsync(context);

        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal(0, context.Response.Body.Length);
        Assert.Empty(_logger.Entries);
    }

    private static async Task<string> ExportAsync(GatewayMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>A request body whose stream fails with an exception nothing on the request path expects.</summary>
    private sealed class BrokenStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The request body stream is broken.");
    }

    private sealed class StartedResponse : HttpResponseFeature
    {
        public override bool HasStarted => true;
    }

    private sealed class RecordingLifetime : IHttpRequestLifetimeFeature
    {
        public bool Aborted { get; private set; }

        public CancellationToken RequestAborted { get; set; }

        public void Abort() => Aborted = true;
    }
}

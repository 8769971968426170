using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Testing;

namespace Gateway.Simulator.Tests.Telemetry;

/// <summary>
/// The simulator's <c>--otlp-traces-endpoint</c>, end to end: the real process exports its <c>llm_request</c> spans over
/// OTLP/HTTP to a loopback collector, continuing the trace each request's <c>traceparent</c> carried, as vLLM does.
/// </summary>
public sealed class LlmRequestSpanTests : IAsyncLifetime
{
    private const string Key = "sk-traced";
    private static readonly TimeSpan ExportTimeout = TimeSpan.FromSeconds(30);

    private OtlpReceiver _receiver = null!;
    private SimulatorProcess _simulator = null!;

    public async Task InitializeAsync()
    {
        _receiver = await OtlpReceiver.StartAsync();
        _simulator = await StartTracedAsync(_receiver, scheduleDelayMs: "50", serviceName: "replica-a", "--api-key", Key, "--inter-token-latency", "20", "--served-model-name", "qwen");
    }

    public async Task DisposeAsync()
    {
        await _simulator.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task PlainChat_WithTraceparent_IsAServerSpanUnderTheCallersSpan_WithVllmsAttributes()
    {
        var caller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);

        var answer = await PostChatAsync(new { model = "qwen", messages = Hello, max_tokens = 3, temperature = 0.5, top_p = 0.9 }, caller, traceState: "gw=on");

        var span = await SpanOfTraceAsync(caller.TraceId);
        Assert.Equal("llm_request", span.Name);
        Assert.Equal(OtlpSpanKind.Server, span.Kind);
        Assert.Equal(caller.SpanId.ToHexString(), span.ParentSpanId);
        Assert.Equal("replica-a", span.ServiceName);
        Assert.Equal("Gateway.Simulator", span.ScopeName);
        Assert.Equal(OtlpStatusCode.Unset, span.StatusCode);
        Assert.Equal("qwen", span.Attributes["gen_ai.response.model"]);
        Assert.Equal(answer.GetProperty("id").GetString(), span.Attributes["gen_ai.request.id"]);
        Assert.Equal(3L, span.Attributes["gen_ai.request.max_tokens"]);
        Assert.Equal(0.5, span.Attributes["gen_ai.request.temperature"]);
        Assert.Equal(0.9, span.Attributes["gen_ai.request.top_p"]);
        Assert.Equal(1L, span.Attributes["gen_ai.request.n"]);
        Assert.Equal(1L, span.Attributes["gen_ai.usage.num_sequences"]);
        Assert.Equal(answer.GetProperty("usage").GetProperty("prompt_tokens").GetInt64(), span.Attributes["gen_ai.usage.prompt_tokens"]);
        Assert.Equal(3L, span.Attributes["gen_ai.usage.completion_tokens"]);
        AssertLatencies(span, decodeAtLeast: TimeSpan.FromMilliseconds(2 * 20));
    }

    [Fact]
    public async Task StreamedChat_SpanLastsUntilTheLastToken()
    {
        var caller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        var body = new { model = "qwen", messages = Hello, max_tokens = 6, stream = true, stream_options = new { include_usage = true } };

        using var request = ChatRequest(body, caller, traceState: null);
        using var http = _simulator.CreateHttpClient();
        using var response = await http.SendAsync(request);
        var events = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.EndsWith("data: [DONE]\n\n", events, StringComparison.Ordinal);

        var span = await SpanOfTraceAsync(caller.TraceId);
        Assert.Equal("llm_request", span.Name);
        Assert.Equal(OtlpSpanKind.Server, span.Kind);
        Assert.Equal(caller.SpanId.ToHexString(), span.ParentSpanId);
        Assert.Equal(6L, span.Attributes["gen_ai.usage.completion_tokens"]);
        Assert.Equal(6L, span.Attributes["gen_ai.request.max_tokens"]);
        Assert.False(span.Attributes.ContainsKey("gen_ai.request.temperature"));
        Assert.Equal(OtlpStatusCode.Unset, span.StatusCode);
        // Five gaps of 20 ms between six tokens: the span is open while the stream is.
        AssertLatencies(span, decodeAtLeast: TimeSpan.FromMilliseconds(5 * 20));
        Assert.True(span.Duration >= TimeSpan.FromMilliseconds(5 * 20), $"the span lasted {span.Duration.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task TextCompletion_WithoutTraceparent_IsARootSpan()
    {
        using var http = _simulator.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = JsonContent.Create(new { prompt = "Once upon", max_tokens = 2 }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        using var response = await http.SendAsync(request);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var span = await Eventually.WaitAsync(
            () => Task.FromResult(_receiver.Spans.FirstOrDefault(s => Equals(s.Attributes.GetValueOrDefault("gen_ai.request.id"), id))),
            s => s is not null, ExportTimeout, $"the span of {id}");
        Assert.Equal("llm_request", span!.Name);
        Assert.Null(span.ParentSpanId);
        Assert.Matches("^[0-9a-f]{32}$", span.TraceId);
        Assert.Equal(2L, span.Attributes["gen_ai.usage.completion_tokens"]);
    }

    [Fact]
    public async Task RefusedKey_401_MarksTheSpanAsAnError()
    {
        var caller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);

        using var request = ChatRequest(new { model = "qwen", messages = Hello }, caller, traceState: null, key: "sk-wrong");
        using var http = _simulator.CreateHttpClient();
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        var span = await SpanOfTraceAsync(caller.TraceId);
        Assert.Equal("llm_request", span.Name);
        Assert.Equal(caller.SpanId.ToHexString(), span.ParentSpanId);
        Assert.Equal(OtlpStatusCode.Error, span.StatusCode);
        Assert.Equal("HTTP 401", span.StatusMessage);
        Assert.False(span.Attributes.ContainsKey("gen_ai.usage.completion_tokens"));
    }

    [Fact]
    public async Task StreamDroppedByTheClient_MarksTheSpanAsAnError()
    {
        var caller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        // 1,000 tokens at 20 ms: the stream would run for 20 s if the drop went unnoticed.
        using (var http = _simulator.CreateHttpClient())
        using (var request = ChatRequest(new { model = "qwen", messages = Hello, max_tokens = 1000, stream = true }, caller, traceState: null))
        using (var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        using (var reader = new StreamReader(await response.Content.ReadAsStreamAsync()))
        {
            Assert.StartsWith("data: ", await reader.ReadLineAsync(), StringComparison.Ordinal);
        }

        var span = await SpanOfTraceAsync(caller.TraceId);
        Assert.Equal(caller.SpanId.ToHexString(), span.ParentSpanId);
        Assert.Equal(OtlpStatusCode.Error, span.StatusCode);
        Assert.Equal("the client went away", span.StatusMessage);
        Assert.InRange((long)span.Attributes["gen_ai.usage.completion_tokens"]!, 1, 999);
    }

    [Fact]
    public async Task DefaultGrpc_CollectorUnreachable_RequestsAreStillAnswered()
    {
        await using var simulator = await SimulatorProcess.StartWithEnvironmentAsync(
            new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] = "", ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "", ["OTEL_BSP_SCHEDULE_DELAY"] = "50" },
            "--otlp-traces-endpoint", ClosedPort.Address().ToString());
        using var http = simulator.CreateHttpClient();
        var caller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);

        for (var i = 0; i < 3; i++)
        {
            using var request = ChatRequest(new { model = "qwen", messages = Hello, max_tokens = 2 }, caller, traceState: null);
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.False(simulator.HasExited, simulator.Output);
    }

    [Fact]
    public async Task InjectedFailure_MarksTheSpanAsAnError()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var failing = await StartTracedAsync(receiver, scheduleDelayMs: "50", serviceName: null, "--failure-injection-rate", "100", "--failure-types", "server_error");
        var caller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);

        using var request = ChatRequest(new { model = "qwen", messages = Hello }, caller, traceState: null);
        using var http = failing.CreateHttpClient();
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);

        var span = await SpanOfTraceAsync(receiver, caller.TraceId);
        Assert.Equal(caller.SpanId.ToHexString(), span.ParentSpanId);
        Assert.Equal(OtlpStatusCode.Error, span.StatusCode);
        Assert.Equal("HTTP 500", span.StatusMessage);
        Assert.Equal("vllm-simulator", span.ServiceName);
    }

    [Fact]
    public async Task StopOnSigterm_ExportsTheSpansStillInTheBatch()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        // The SDK's default delay (5 s): the span is still in the batch when the simulator is told to stop.
        await using var simulator = await StartTracedAsync(receiver, scheduleDelayMs: null, serviceName: null);
        var caller = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        using (var http = simulator.CreateHttpClient())
        using (var request = ChatRequest(new { model = "qwen", messages = Hello, max_tokens = 1 }, caller, traceState: null))
        using (var response = await http.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Empty(receiver.Spans);
        await simulator.StopAsync(TimeSpan.FromSeconds(20));

        var span = Assert.Single(receiver.Spans);
        Assert.Equal(caller.TraceId.ToHexString(), span.TraceId);
        Assert.Equal(caller.SpanId.ToHexString(), span.ParentSpanId);
    }

    [Fact]
    public async Task Process_EndpointNotAUrl_ExitsWithCode2NamingTheFlag()
    {
        using var process = SimulatorProcess.StartRaw("--otlp-traces-endpoint", "collector:4317");
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("error: --otlp-traces-endpoint: 'collector:4317' is not an absolute http:// or https:// URL", error, StringComparison.Ordinal);
    }

    private static readonly object[] Hello = [new { role = "user", content = "Hello there, how are you?" }];

    /// <summary>The simulator exporting to <paramref name="receiver"/>; null settings are left to the simulator's defaults.</summary>
    private static Task<SimulatorProcess> StartTracedAsync(OtlpReceiver receiver, string? scheduleDelayMs, string? serviceName, params string[] args)
    {
        var environment = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] = "http/protobuf",
            // Empty counts as unset, whatever the test host's own environment says.
            ["OTEL_SERVICE_NAME"] = serviceName ?? "",
        };
        if (scheduleDelayMs is not null)
        {
            environment["OTEL_BSP_SCHEDULE_DELAY"] = scheduleDelayMs;
        }

        return SimulatorProcess.StartWithEnvironmentAsync(environment, ["--otlp-traces-endpoint", receiver.TracesUrl.ToString(), .. args]);
    }

    private static void AssertLatencies(OtlpSpan span, TimeSpan decodeAtLeast)
    {
        var queue = (double)span.Attributes["gen_ai.latency.time_in_queue"]!;
        var firstToken = (double)span.Attributes["gen_ai.latency.time_to_first_token"]!;
        var e2e = (double)span.Attributes["gen_ai.latency.e2e"]!;
        Assert.InRange(queue, 0, firstToken);
        Assert.InRange(e2e, firstToken + decodeAtLeast.TotalSeconds, span.Duration.TotalSeconds);
        Assert.Equal(firstToken - queue, (double)span.Attributes["gen_ai.latency.time_in_model_prefill"]!, 9);
        Assert.Equal(e2e - firstToken, (double)span.Attributes["gen_ai.latency.time_in_model_decode"]!, 9);
        Assert.Equal(e2e - queue, (double)span.Attributes["gen_ai.latency.time_in_model_inference"]!, 9);
    }

    private static HttpRequestMessage ChatRequest(object body, ActivityContext caller, string? traceState, string key = Key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        request.Headers.Add("traceparent", $"00-{caller.TraceId.ToHexString()}-{caller.SpanId.ToHexString()}-01");
        if (traceState is not null)
        {
            request.Headers.Add("tracestate", traceState);
        }

        return request;
    }

    private static async Task<OtlpSpan> SpanOfTraceAsync(OtlpReceiver receiver, ActivityTraceId traceId)
    {
        var hex = traceId.ToHexString();
        var span = await Eventually.WaitAsync(
            () => Task.FromResult(receiver.Spans.FirstOrDefault(s => s.TraceId == hex)), s => s is not null, ExportTimeout, $"a span of trace {hex}");
        Assert.Single(receiver.Spans, s => s.TraceId == hex);
        return span!;
    }

    private async Task<JsonElement> PostChatAsync(object body, ActivityContext caller, string? traceState)
    {
        using var request = ChatRequest(body, caller, traceState);
        using var http = _simulator.CreateHttpClient();
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private Task<OtlpSpan> SpanOfTraceAsync(ActivityTraceId traceId) => SpanOfTraceAsync(_receiver, traceId);
}

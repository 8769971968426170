using System.Diagnostics;
using System.Net;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Gateway.IntegrationTests;

/// <summary>
/// With OpenTelemetry on, a request the client traced is one server span in the client's trace, named and tagged after
/// the GenAI conventions, with one HTTP client span per attempt under it whose <c>traceparent</c> reaches the replica.
/// The spans are read from OpenTelemetry's in-memory exporter, added beside the OTLP one; the replicas' (simulators
/// continuing the trace, as vLLM does with <c>--otlp-traces-endpoint</c>) from a loopback OTLP/HTTP collector.
/// </summary>
public sealed class TracesFollowARequestFromClientToReplica
{
    private static readonly string[] Overloaded = ["--failure-injection-rate", "100", "--failure-types", "unavailable"];

    /// <summary>A simulator exports its spans at once over OTLP/HTTP.</summary>
    private static readonly Dictionary<string, string> SimulatorTracing = new()
    {
        ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
    };

    [Fact]
    public async Task RetriedRequest_IsOneServerSpanInTheClientsTrace_WithTwoAttemptSpansUnderIt()
    {
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        await using var collector = await OtlpReceiver.StartAsync();
        string[] traced = ["--otlp-traces-endpoint", collector.TracesUrl.ToString()];
        await using var gateway = await GatewayFixture.StartAsync(
            [[.. Overloaded, .. traced], ["--inter-token-latency", "5", .. traced]],
            sims =>
            {
                var onPrem = GatewayFixture.Pool("on-prem", 0, 4, sims[0]);

                // The 503 keeps it out once answered; its /health says 200, so no probe in the test's time lets it back.
                onPrem.Health = new HealthOptions { ProbeIntervalSeconds = 60, ProbeTimeoutSeconds = 5, MaxBackoffSeconds = 60 };
                return new GatewayOptions
                {
                    Services = [GatewayFixture.QwenChat(onPrem, GatewayFixture.Pool("cloud", 1, 4, sims[1]))],
                    Telemetry = new TelemetryOptions { Otlp = new OtlpOptions { Endpoint = collector.BaseAddress.ToString(), Protocol = "http/protobuf" } },
                };
            },
            settings: new Dictionary<string, string?> { ["OTEL_BSP_SCHEDULE_DELAY"] = "100" },
            services: services => services
                .ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans))
                .ConfigureOpenTelemetryMeterProvider(meters => meters.AddInMemoryExporter(metrics)),
            simulatorEnvironment: SimulatorTracing);
        using var http = gateway.CreatePublicClient();
        var clientTrace = ActivityTraceId.CreateRandom();
        var clientSpan = ActivitySpanId.CreateRandom();

        using var request = ChatRequest.Post(maxTokens: 3);
        request.Headers.Add("traceparent", $"00-{clientTrace.ToHexString()}-{clientSpan.ToHexString()}-01");
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {body}");

        var trace = await Eventually.WaitAsync(
            () => Task.FromResult(InTrace(spans, clientTrace)),
            found => found.Any(s => s.Kind == ActivityKind.Server),
            TimeSpan.FromSeconds(10), "the server span, exported once the answer ended");
        var server = Assert.Single(trace, s => s.Kind == ActivityKind.Server);
        Assert.Equal(clientSpan, server.ParentSpanId);
        Assert.Equal("chat qwen", server.DisplayName);
        Assert.Equal("chat", server.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("qwen", server.GetTagItem("gen_ai.request.model"));
        Assert.Equal("qwen", server.GetTagItem("gen_ai.response.model"));
        Assert.Equal(3, server.GetTagItem("gen_ai.request.max_tokens"));
        Assert.Equal(3L, server.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.True(server.GetTagItem("gen_ai.usage.input_tokens") is long input && input > 0);
        Assert.Equal(false, server.GetTagItem("gateway.stream"));
        Assert.Equal("qwen-chat", server.GetTagItem("gateway.service"));
        Assert.Equal("anonymous", server.GetTagItem("gateway.tenant"));
        Assert.Equal("cloud", server.GetTagItem("gateway.pool"));
        Assert.Equal("cloud-1", server.GetTagItem("gateway.replica"));
        Assert.Equal(2, server.GetTagItem("gateway.attempts"));
        Assert.Equal("retry", server.GetTagItem("gateway.spill_reason"));
        Assert.Equal(["placed", "retried", "placed", "first_token"], server.Events.Select(e => e.Name));

        // One client span per attempt, children of the server span, each naming its replica and number.
        var attempts = trace.Where(s => s.Kind == ActivityKind.Client).OrderBy(s => s.StartTimeUtc).ToArray();
        Assert.Equal(2, attempts.Length);
        Assert.All(attempts, a => Assert.Equal(server.SpanId, a.ParentSpanId));
        Assert.Equal(["on-prem-1", "cloud-1"], attempts.Select(a => a.GetTagItem("gateway.replica")));
        Assert.Equal([1, 2], attempts.Select(a => a.GetTagItem("gateway.attempt")));
        Assert.Equal([503, 200], attempts.Select(a => a.GetTagItem("http.response.status_code")));

        // Each replica continued the trace under the attempt that reached it, its 503 included.
        var replicaSpans = await Eventually.WaitAsync(
            () => Task.FromResult(collector.Spans.Where(s => s.TraceId == clientTrace.ToHexString() && s.Name == "llm_request").ToArray()),
            found => found.Length >= 2, TimeSpan.FromSeconds(10), "the simulators' llm_request spans at the collector");
        Assert.Equal(
            attempts.Select(a => a.SpanId.ToHexString()).Order(),
            replicaSpans.Select(s => s.ParentSpanId!).Order());
        Assert.All(replicaSpans, s => Assert.Equal(("vllm-simulator", OtlpSpanKind.Server), (s.ServiceName, s.Kind)));
        var answered = Assert.Single(replicaSpans, s => s.ParentSpanId == attempts[1].SpanId.ToHexString());
        Assert.Equal(3L, answered.Attributes["gen_ai.usage.completion_tokens"]);

        // The gateway's own spans went to the same collector over OTLP/HTTP, as configured by key.
        await Eventually.WaitAsync(
            () => Task.FromResult(collector.Spans.Where(s => s.TraceId == clientTrace.ToHexString() && s.ServiceName == "inference-gateway").ToArray()),
            found => found.Length == 3, TimeSpan.FromSeconds(10), "the gateway's server span and two attempt spans at the collector");

        // The GenAI histograms, here and at the collector.
        Assert.True(gateway.Services.GetRequiredService<MeterProvider>().ForceFlush(10_000));
        string[] genAi = ["gen_ai.client.token.usage", "gen_ai.client.operation.duration", "gen_ai.server.time_to_first_token"];
        Assert.Superset(genAi.ToHashSet(), metrics.Select(m => m.Name).ToHashSet());
        Assert.Superset(genAi.ToHashSet(), collector.Metrics.Where(m => m.ServiceName == "inference-gateway").Select(m => m.Name).ToHashSet());
    }


    [Fact]
    public async Task StreamedRequest_SpanSaysItStreamed_WithItsUsageAndFirstToken()
    {
        var spans = new List<Activity>();
        await using var gateway = await StartAsync(spans);
        using var http = gateway.CreatePublicClient();
        var (trace, parent) = (ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());

        using var request = ChatRequest.Post(maxTokens: 5, stream: true);
        request.Headers.Add("traceparent", $"00-{trace.ToHexString()}-{parent.ToHexString()}-01");
        using var response = await http.SendAsync(request);
        Assert.Contains("data: [DONE]", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var server = await ServerSpanAsync(spans, trace);
        Assert.Equal(true, server.GetTagItem("gateway.stream"));
        Assert.Equal(5L, server.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Null(server.GetTagItem("gateway.spill_reason"));
        Assert.Equal("on-prem", server.GetTagItem("gateway.pool"));
        var firstToken = Assert.Single(server.Events, e => e.Name == "first_token");
        Assert.InRange(firstToken.Timestamp.UtcDateTime, server.StartTimeUtc, server.StartTimeUtc + server.Duration);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RatioSampler_FromTheVariablesOrTheKey_KeepsNoNewTrace_ButFollowsASampledCaller(bool fromVariables)
    {
        var spans = new List<Activity>();
        await using var gateway = await StartAsync(
            spans,
            samplingRatio: fromVariables ? null : 0,
            settings: fromVariables
                ? new Dictionary<string, string?> { ["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio", ["OTEL_TRACES_SAMPLER_ARG"] = "0" }
                : null);
        using var http = gateway.CreatePublicClient();
        var untracedIds = new HashSet<object?>();
        for (var i = 0; i < 3; i++)
        {
            using var untraced = await http.SendAsync(ChatRequest.Post(maxTokens: 1));
            untraced.EnsureSuccessStatusCode();
            untracedIds.Add(untraced.Headers.GetValues("x-request-id").Single());
        }

        var trace = ActivityTraceId.CreateRandom();
        using var request = ChatRequest.Post(maxTokens: 1);
        request.Headers.Add("traceparent", $"00-{trace.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var traced = await http.SendAsync(request);
        traced.EnsureSuccessStatusCode();

        var followed = await ServerSpanAsync(spans, trace);
        Assert.Equal(traced.Headers.GetValues("x-request-id").Single(), followed.GetTagItem("gateway.request.id"));

        // Spans end before their answers do, so the three untraced ones would be here by now.
        Assert.DoesNotContain(spans.ToArray(), s => s is not null && untracedIds.Contains(s.GetTagItem("gateway.request.id")));
    }

    /// <summary>
    /// A gateway with OpenTelemetry on (an OTLP endpoint nobody listens on) and the in-memory exporter beside it: one
    /// on-prem simulator, one cloud.
    /// </summary>
    private static Task<GatewayFixture> StartAsync(List<Activity> spans, double? samplingRatio = null, Dictionary<string, string?>? settings = null) =>
        GatewayFixture.StartAsync(
            [["--inter-token-latency", "5"], ["--inter-token-latency", "5"]],
            sims => new GatewayOptions
            {
                Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, sims[0]), GatewayFixture.Pool("cloud", 1, 4, sims[1]))],
                Telemetry = new TelemetryOptions { Otlp = new OtlpOptions { Endpoint = ClosedPort.Address().ToString(), SamplingRatio = samplingRatio } },
            },
            settings: settings,
            services: services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)));

    private static async Task<Activity> ServerSpanAsync(List<Activity> spans, ActivityTraceId trace)
    {
        var found = await Eventually.WaitAsync(
            () => Task.FromResult(InTrace(spans, trace)),
            found => found.Any(s => s.Kind == ActivityKind.Server),
            TimeSpan.FromSeconds(10), "the server span, exported once the answer ended");
        return Assert.Single(found, s => s.Kind == ActivityKind.Server);
    }

    /// <summary>The spans of <paramref name="trace"/> exported so far; a copy, as the exporter adds to the list without a lock.</summary>
    private static List<Activity> InTrace(List<Activity> spans, ActivityTraceId trace) =>
        spans.ToArray().Where(s => s is not null && s.TraceId == trace).ToList();
}

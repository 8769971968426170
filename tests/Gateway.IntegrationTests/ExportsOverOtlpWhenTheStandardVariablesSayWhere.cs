using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// The gateway as an operator runs it, a process with nothing about telemetry in its configuration, turned on by the
/// standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> alone (with <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> and <c>OTEL_SERVICE_NAME</c>):
/// its traces and metrics arrive at a loopback OTLP/HTTP collector as protobuf POSTs to <c>/v1/traces</c> and <c>/v1/metrics</c>.
/// </summary>
public sealed class ExportsOverOtlpWhenTheStandardVariablesSayWhere
{
    [Fact]
    public async Task EndpointVariable_TracesAndMetricsArriveAsProtobufPosts()
    {
        await using var collector = await OtlpReceiver.StartAsync();
        await using var simulator = await SimulatorProcess.StartAsync();
        var folder = Directory.CreateTempSubdirectory("gateway-otlp-").FullName;
        try
        {
            var config = Path.Combine(folder, "gateway.json");
            await File.WriteAllTextAsync(config, $$"""
                {
                  "Gateway": {
                    "PublicUrl": "http://127.0.0.1:0",
                    "AdminUrl": "http://127.0.0.1:0",
                    "Services": [
                      { "Name": "qwen-chat", "Models": [ "qwen" ], "Pools": [ { "Name": "on-prem", "CapacityPerReplica": 4, "Static": [ "{{simulator.BaseAddress.ToString().TrimEnd('/')}}" ] } ] }
                    ]
                  }
                }
                """);
            await using var gateway = await GatewayProcess.StartWithEnvironmentAsync(
                new Dictionary<string, string>
                {
                    ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseAddress.ToString().TrimEnd('/'),
                    ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                    ["OTEL_SERVICE_NAME"] = "gateway-under-test",
                    ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
                    ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
                },
                "--config", config);
            using var http = new HttpClient(new UntracedHandler()) { BaseAddress = gateway.PublicAddress, Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Host = GatewayFixture.ServiceHost;

            using var response = await http.PostAsync("v1/chat/completions", ChatRequest.Body(maxTokens: 2));
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

            var span = await Eventually.WaitAsync(
                () => Task.FromResult(collector.Spans.FirstOrDefault(s => s.Name == "chat qwen")),
                found => found is not null, TimeSpan.FromSeconds(15), "the server span at the collector\n" + gateway.Output);
            Assert.Equal(("gateway-under-test", OtlpSpanKind.Server), (span!.ServiceName, span.Kind));
            Assert.Equal(2L, span.Attributes["gen_ai.usage.output_tokens"]);
            await Eventually.WaitAsync(
                () => Task.FromResult(collector.Metrics.Select(m => m.Name).ToHashSet()),
                names => names.Contains("gen_ai.client.operation.duration") && names.Contains("gen_ai.client.token.usage"),
                TimeSpan.FromSeconds(15), "the GenAI histograms at the collector");

            var exports = collector.Exports;
            Assert.Contains(exports, e => e.Path == "/v1/traces");
            Assert.Contains(exports, e => e.Path == "/v1/metrics");
            Assert.All(exports, e => Assert.Equal(("application/x-protobuf", 200), (e.ContentType, e.StatusCode)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

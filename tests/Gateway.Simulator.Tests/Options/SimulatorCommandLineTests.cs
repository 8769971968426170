using Gateway.Simulator.Options;
using Gateway.Testing;
using OpenTelemetry.Exporter;

namespace Gateway.Simulator.Tests.Options;

public sealed class SimulatorCommandLineTests
{
    [Fact]
    public void Parse_NoFlags_GivesTheDocumentedDefaults()
    {
        var options = SimulatorCommandLine.Parse([]).Options!;

        Assert.Equal("127.0.0.1", options.Host);
        Assert.Equal(8000, options.Port);
        Assert.Equal(["qwen"], options.ServedModelNames);
        Assert.Equal(4, options.MaxNumSeqs);
        Assert.Equal(6144, options.MaxModelLen);
        Assert.Equal(1.0, options.TimeFactorUnderLoad);
        Assert.Equal(0, options.FailureInjectionRate);
        Assert.False(options.FailureControl);
    }

    [Fact]
    public void Parse_EveryFlag_SetsItsOption()
    {
        var options = SimulatorCommandLine.Parse(
        [
            "--host", "0.0.0.0", "--port=9001", "--served-model-name", "a", "b", "--max-num-seqs", "8", "--max-model-len", "2048",
            "--max-waiting-queue-length", "5", "--time-to-first-token", "120", "--prefill-time-per-token", "0.5",
            "--inter-token-latency", "20", "--time-factor-under-load", "2.5", "--startup-duration", "3",
            "--failure-injection-rate", "10", "--failure-types", "rate_limit,server_error", "unavailable", "--failure-control", "--seed", "7",
            "--kv-cache-size", "64", "--block-size", "32", "--default-max-tokens", "9", "--otlp-traces-endpoint", "http://collector:4317",
        ]).Options!;

        Assert.Equal("0.0.0.0", options.Host);
        Assert.Equal(9001, options.Port);
        Assert.Equal(["a", "b"], options.ServedModelNames);
        Assert.Equal(8, options.MaxNumSeqs);
        Assert.Equal(2048, options.MaxModelLen);
        Assert.Equal(5, options.MaxWaitingQueueLength);
        Assert.Equal(120, options.TimeToFirstTokenMs);
        Assert.Equal(0.5, options.PrefillTimePerTokenMs);
        Assert.Equal(20, options.InterTokenLatencyMs);
        Assert.Equal(2.5, options.TimeFactorUnderLoad);
        Assert.Equal(3, options.StartupDurationSeconds);
        Assert.Equal(10, options.FailureInjectionRate);
        Assert.Equal([FailureType.RateLimit, FailureType.ServerError, FailureType.Unavailable], options.FailureTypes);
        Assert.True(options.FailureControl);
        Assert.Equal(7, options.Seed);
        Assert.Equal(64, options.KvCacheSize);
        Assert.Equal(32, options.BlockSize);
        Assert.Equal(9, options.DefaultMaxTokens);
        Assert.Equal(new Uri("http://collector:4317"), options.OtlpTracesEndpoint);
    }

    [Fact]
    public void Parse_NoOtlpTracesEndpoint_TracesNothingAndReadsNoOtelVariable()
    {
        var options = SimulatorCommandLine.Parse([], name => name.StartsWith("OTEL_", StringComparison.Ordinal) ? "bogus" : null).Options!;

        Assert.Null(options.OtlpTracesEndpoint);
    }

    [Theory]
    [InlineData(null, null, OtlpExportProtocol.Grpc)]
    [InlineData("http/protobuf", null, OtlpExportProtocol.HttpProtobuf)]
    [InlineData(null, "http/protobuf", OtlpExportProtocol.HttpProtobuf)]
    [InlineData("grpc", "http/protobuf", OtlpExportProtocol.Grpc)]
    [InlineData(" ", "http/protobuf", OtlpExportProtocol.HttpProtobuf)]
    public void Parse_OtlpTracesEndpoint_ProtocolFromTheTracesVariableElseTheGeneralOneElseGrpc(string? traces, string? general, OtlpExportProtocol expected)
    {
        var environment = new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] = traces, ["OTEL_EXPORTER_OTLP_PROTOCOL"] = general };

        var options = SimulatorCommandLine.Parse(["--otlp-traces-endpoint", "https://collector:4318/v1/traces"], environment.GetValueOrDefault).Options!;

        Assert.Equal(expected, options.OtlpTracesProtocol);
        Assert.Equal(new Uri("https://collector:4318/v1/traces"), options.OtlpTracesEndpoint);
    }

    [Theory]
    [InlineData(null, "vllm-simulator")]
    [InlineData("", "vllm-simulator")]
    [InlineData("replica-7", "replica-7")]
    public void Parse_OtlpTracesEndpoint_ServiceNameFromOtelServiceNameElseVllmSimulator(string? variable, string expected)
    {
        var options = SimulatorCommandLine.Parse(["--otlp-traces-endpoint", "http://collector:4317"], name => name == "OTEL_SERVICE_NAME" ? variable : null).Options!;

        Assert.Equal(expected, options.OtelServiceName);
    }

    [Fact]
    public void Parse_OtlpTracesEndpoint_UnknownProtocolNamesTheVariable()
    {
        var result = SimulatorCommandLine.Parse(["--otlp-traces-endpoint", "http://collector:4317"], name => name == "OTEL_EXPORTER_OTLP_PROTOCOL" ? "http/json" : null);

        Assert.Null(result.Options);
        Assert.Equal("OTEL_EXPORTER_OTLP_PROTOCOL: unsupported OTLP protocol 'http/json' for --otlp-traces-endpoint (grpc or http/protobuf)", result.Error);
    }

    [Fact]
    public void Parse_NoApiKeyFlag_TakesTheKeyFromVllmApiKey()
    {
        var options = SimulatorCommandLine.Parse([], name => name == "VLLM_API_KEY" ? " sk-from-env\n" : null).Options!;

        Assert.Equal("sk-from-env", options.ApiKey);
    }

    [Fact]
    public void Parse_ApiKeyFlagAndVllmApiKey_TheFlagWins()
    {
        var options = SimulatorCommandLine.Parse(["--api-key", "sk-flag"], name => name == "VLLM_API_KEY" ? "sk-from-env" : null).Options!;

        Assert.Equal("sk-flag", options.ApiKey);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void Parse_VllmApiKeyUnsetOrEmpty_AsksForNoKey(string? value) =>
        Assert.Null(SimulatorCommandLine.Parse([], _ => value).Options!.ApiKey);

    [Theory]
    [InlineData("--served-model-name", "served", "--model", "path/to/model")]
    [InlineData("--model", "path/to/model", "--served-model-name", "served")]
    public void Parse_ServedModelName_WinsOverModel(string flag1, string value1, string flag2, string value2) =>
        Assert.Equal(["served"], SimulatorCommandLine.Parse([flag1, value1, flag2, value2]).Options!.ServedModelNames);

    [Theory]
    [InlineData(new[] { "--bogus" }, "unknown flag '--bogus'")]
    [InlineData(new[] { "--max-num-seqs", "many" }, "--max-num-seqs: 'many' is not a whole number")]
    [InlineData(new[] { "--max-num-seqs", "0" }, "--max-num-seqs: 0 is out of range (1..100000)")]
    [InlineData(new[] { "--port" }, "--port needs a value (PORT)")]
    [InlineData(new[] { "--port", "1", "2" }, "unexpected argument '2': flags start with --")]
    [InlineData(new[] { "--time-factor-under-load", "0.5" }, "--time-factor-under-load: 0.5 is out of range (1..1000)")]
    [InlineData(new[] { "--failure-injection-rate", "NaN" }, "--failure-injection-rate: 'NaN' is not a number")]
    [InlineData(new[] { "--failure-types", "meteor" }, "--failure-types: unknown failure type 'meteor'")]
    [InlineData(new[] { "stray" }, "unexpected argument 'stray'")]
    [InlineData(new[] { "--failure-control=yes" }, "--failure-control takes no value")]
    [InlineData(new[] { "--failure-control", "yes" }, "unexpected argument 'yes': flags start with --")]
    [InlineData(new[] { "--ssl-certfile", "cert.pem" }, "--ssl-certfile and --ssl-keyfile go together: give both or neither")]
    [InlineData(new[] { "--ssl-keyfile", "key.pem" }, "--ssl-certfile and --ssl-keyfile go together: give both or neither")]
    [InlineData(new[] { "--api-key", " " }, "--api-key must not be empty")]
    [InlineData(new[] { "--max-requests-per-second", "-1" }, "--max-requests-per-second: -1 is out of range (0..1000000)")]
    [InlineData(new[] { "--otlp-traces-endpoint" }, "--otlp-traces-endpoint needs a value (URL)")]
    [InlineData(new[] { "--otlp-traces-endpoint", "collector:4317" }, "--otlp-traces-endpoint: 'collector:4317' is not an absolute http:// or https:// URL")]
    [InlineData(new[] { "--otlp-traces-endpoint", "/v1/traces" }, "--otlp-traces-endpoint: '/v1/traces' is not an absolute http:// or https:// URL")]
    [InlineData(new[] { "--otlp-traces-endpoint", "ftp://collector/v1/traces" }, "--otlp-traces-endpoint: 'ftp://collector/v1/traces' is not an absolute http:// or https:// URL")]
    public void Parse_BadFlag_NamesTheFlagAndTheProblem(string[] args, string message)
    {
        var result = SimulatorCommandLine.Parse(args);

        Assert.Null(result.Options);
        Assert.StartsWith(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Process_UnknownFlag_ExitsWithCode2AndAMessage()
    {
        using var process = SimulatorProcess.StartRaw("--max-num-seqs", "lots");
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("error: --max-num-seqs: 'lots' is not a whole number", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Process_Help_PrintsEveryFlagAndExitsZero()
    {
        using var process = SimulatorProcess.StartRaw("--help");
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(0, process.ExitCode);
        Assert.Contains("--max-waiting-queue-length", output, StringComparison.Ordinal);
        Assert.Contains("--failure-types", output, StringComparison.Ordinal);
        Assert.Contains("--otlp-traces-endpoint URL", output, StringComparison.Ordinal);
    }
}

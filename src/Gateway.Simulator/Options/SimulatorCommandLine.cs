using System.Globalization;
using System.Text;
using OpenTelemetry.Exporter;

namespace Gateway.Simulator.Options;

/// <summary>The outcome of reading the command line: options to run with, help to print, or an error.</summary>
internal sealed record CommandLineResult(SimulatorOptions? Options, string? Error, bool HelpRequested);

/// <summary>
/// Reads vLLM-style flags (<c>--name value</c> or <c>--name=value</c>; list flags take several values; a switch such as
/// <c>--failure-control</c> takes none).
/// Every mistake is reported with the flag's name and what was wrong, never as a stack trace.
/// </summary>
internal static class SimulatorCommandLine
{
    private delegate SimulatorOptions Apply(SimulatorOptions options, IReadOnlyList<string> values);

    private const string ModelFlag = "--model";
    private const string ServedModelNameFlag = "--served-model-name";

    /// <summary>
    /// Where vLLM reads its key when <c>--api-key</c> is not given: a key passed this way stays off the command line,
    /// which any user of the machine can read.
    /// </summary>
    internal const string ApiKeyVariable = "VLLM_API_KEY";

    /// <summary>The OTLP protocol of the spans (OpenTelemetry's variable for traces alone), read when tracing is on.</summary>
    internal const string TracesProtocolVariable = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";

    /// <summary>The OTLP protocol of every signal, read when <see cref="TracesProtocolVariable"/> is not set.</summary>
    internal const string ProtocolVariable = "OTEL_EXPORTER_OTLP_PROTOCOL";

    /// <summary>The <c>service.name</c> of the spans, read when tracing is on.</summary>
    internal const string ServiceNameVariable = "OTEL_SERVICE_NAME";

    private sealed record Flag(string Name, string ValueName, string Help, bool IsList, Apply Apply, bool IsSwitch = false);

    private static readonly Flag[] Flags =
    [
        Single("--host", "ADDRESS", "address to bind (default 127.0.0.1)", (o, v, n) => o with { Host = NonEmpty(n, v) }),
        Single("--port", "PORT", "port to bind, 0 for a free one (default 8000)", (o, v, n) => o with { Port = Int(n, v, 0, 65535) }),
        Single(ModelFlag, "NAME", "model name; served under it unless --served-model-name is given", (o, v, n) =>
            o with { ServedModelNames = [NonEmpty(n, v)] }),
        List(ServedModelNameFlag, "NAME...", "names the model answers to (default qwen)", (o, v, n) =>
            o with { ServedModelNames = v.Select(x => NonEmpty(n, x)).ToArray() }),
        Single("--max-num-seqs", "N", "sequences run at once (default 4)", (o, v, n) => o with { MaxNumSeqs = Int(n, v, 1, 100_000) }),
        Single("--max-model-len", "TOKENS", "prompt plus completion tokens allowed (default 6144)", (o, v, n) => o with { MaxModelLen = Int(n, v, 1, 10_000_000) }),
        Single("--max-waiting-queue-length", "N", "requests that may wait for a sequence; beyond it 503 (default 1000)", (o, v, n) => o with { MaxWaitingQueueLength = Int(n, v, 0, 10_000_000) }),
        Single("--time-to-first-token", "MS", "base time to first token (default 0)", (o, v, n) => o with { TimeToFirstTokenMs = Double(n, v, 0, 3_600_000) }),
        Single("--prefill-time-per-token", "MS", "extra time to first token per prompt token (default 0)", (o, v, n) => o with { PrefillTimePerTokenMs = Double(n, v, 0, 60_000) }),
        Single("--inter-token-latency", "MS", "time between generated tokens (default 0)", (o, v, n) => o with { InterTokenLatencyMs = Double(n, v, 0, 60_000) }),
        Single("--time-factor-under-load", "FACTOR", "latency factor when all sequences run, >= 1 (default 1)", (o, v, n) => o with { TimeFactorUnderLoad = Double(n, v, 1, 1000) }),
        Single("--startup-duration", "SECONDS", "seconds during which /health and the API answer 503 (default 0)", (o, v, n) => o with { StartupDurationSeconds = Double(n, v, 0, 86_400) }),
        Single("--failure-injection-rate", "PERCENT", "share of API requests that fail, 0..100 (default 0)", (o, v, n) => o with { FailureInjectionRate = Double(n, v, 0, 100) }),
        List("--failure-types", "TYPE...", "failures to inject: " + string.Join(", ", FailureTypeNames.All), (o, v, n) =>
            o with { FailureTypes = v.Select(x => FailureTypeNames.Parse(n, x)).ToArray() }),
        Switch("--failure-control", "test hook: PUT /simulator/failure-injection {\"rate\":100,\"types\":[\"unavailable\"]} changes the two flags above while running",
            o => o with { FailureControl = true }),
        Single("--seed", "N", "seed for generated text and failure injection (default 42)", (o, v, n) => o with { Seed = Int(n, v, int.MinValue, int.MaxValue) }),
        Single("--kv-cache-size", "BLOCKS", "KV cache size in blocks (default 1024)", (o, v, n) => o with { KvCacheSize = Int(n, v, 1, 100_000_000) }),
        Single("--block-size", "TOKENS", "tokens per KV cache block (default 16)", (o, v, n) => o with { BlockSize = Int(n, v, 1, 4096) }),
        Single("--default-max-tokens", "TOKENS", "answer length when a request sets no max_tokens (default 64)", (o, v, n) => o with { DefaultMaxTokens = Int(n, v, 1, 10_000_000) }),
        Single("--api-key", "KEY", "key /v1 requests must send as Authorization: Bearer, else 401 (default: $" + ApiKeyVariable + ", else none)", (o, v, n) => o with { ApiKey = NonEmpty(n, v) }),
        Single("--ssl-certfile", "FILE", "PEM certificate: listen on https (needs --ssl-keyfile)", (o, v, n) => o with { SslCertFile = NonEmpty(n, v) }),
        Single("--ssl-keyfile", "FILE", "PEM private key of --ssl-certfile", (o, v, n) => o with { SslKeyFile = NonEmpty(n, v) }),
        Single("--max-requests-per-second", "N", "API requests taken per second; beyond it 429 with Retry-After (default 0: no limit)", (o, v, n) =>
            o with { RequestsPerSecondLimit = Int(n, v, 0, 1_000_000) }),
        Single("--otlp-traces-endpoint", "URL", "send an llm_request span per completion, child of the request's traceparent, to this OTLP endpoint "
            + "(protocol: $" + TracesProtocolVariable + ", else $" + ProtocolVariable + ", grpc or http/protobuf, default grpc; "
            + "service name: $" + ServiceNameVariable + ", else vllm-simulator)", (o, v, n) => o with { OtlpTracesEndpoint = HttpUrl(n, v) }),
    ];

    /// <summary>
    /// Parses <paramref name="args"/>, taking the key from <paramref name="environment"/>'s <c>VLLM_API_KEY</c> when no
    /// <c>--api-key</c> is given (the flag wins, as in vLLM; null: no environment); never throws for bad input.
    /// </summary>
    public static CommandLineResult Parse(IReadOnlyList<string> args, Func<string, string?>? environment = null)
    {
        var options = new SimulatorOptions();
        var servedNamesGiven = false;
        var i = 0;
        while (i < args.Count)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                return new CommandLineResult(null, null, HelpRequested: true);
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                return Fail($"unexpected argument '{arg}': flags start with --");
            }

            string name;
            var values = new List<string>();
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                name = arg[..equals];
                values.Add(arg[(equals + 1)..]);
            }
            else
            {
                name = arg;
            }

            var flag = Array.Find(Flags, f => string.Equals(f.Name, name.Replace('_', '-'), StringComparison.Ordinal));
            if (flag is null)
            {
                return Fail($"unknown flag '{name}'");
            }

            i++;
            if (flag.IsSwitch)
            {
                if (equals >= 0)
                {
                    return Fail($"{flag.Name} takes no value");
                }

                options = flag.Apply(options, []);
                continue;
            }

            if (equals < 0)
            {
                // A list flag takes every following value up to the next flag; a single flag takes one.
                while (i < args.Count && !args[i].StartsWith("--", StringComparison.Ordinal) && (flag.IsList || values.Count == 0))
                {
                    values.Add(args[i]);
                    i++;
                }
            }

            if (values.Count == 0)
            {
                return Fail($"{flag.Name} needs a value ({flag.ValueName})");
            }

            // As in vLLM, --served-model-name wins over --model whatever their order.
            if (flag.Name == ModelFlag && servedNamesGiven)
            {
                continue;
            }

            servedNamesGiven |= flag.Name == ServedModelNameFlag;
            try
            {
                options = flag.Apply(options, flag.IsList ? SplitCommas(values) : values);
            }
            catch (FormatException e)
            {
                return Fail(e.Message);
            }
        }

        if ((options.SslCertFile is null) != (options.SslKeyFile is null))
        {
            return Fail("--ssl-certfile and --ssl-keyfile go together: give both or neither");
        }

        if (options.ApiKey is null && environment?.Invoke(ApiKeyVariable) is { } key && !string.IsNullOrWhiteSpace(key))
        {
            options = options with { ApiKey = key.Trim() };
        }

        if (options.OtlpTracesEndpoint is not null)
        {
            try
            {
                options = WithTracingEnvironment(options, environment);
            }
            catch (FormatException e)
            {
                return Fail(e.Message);
            }
        }

        return new CommandLineResult(options, null, HelpRequested: false);
    }

    /// <summary>The text printed for <c>--help</c> and after an error.</summary>
    public static string Usage()
    {
        var text = new StringBuilder();
        text.AppendLine("Usage: Gateway.Simulator [flags]");
        text.AppendLine("A vLLM-compatible OpenAI server that simulates an LLM replica without a GPU.");
        text.AppendLine();
        foreach (var flag in Flags)
        {
            text.Append("  ").Append((flag.Name + " " + flag.ValueName).PadRight(38)).AppendLine(flag.Help);
        }

        return text.ToString();
    }

    private static CommandLineResult Fail(string message) => new(null, message, HelpRequested: false);

    private static List<string> SplitCommas(List<string> values)
    {
        var result = new List<string>();
        foreach (var value in values)
        {
            result.AddRange(value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        }

        return result;
    }

    private static Flag Single(string name, string valueName, string help, Func<SimulatorOptions, string, string, SimulatorOptions> apply) =>
        new(name, valueName, help, IsList: false, (o, v) => apply(o, v[0], name));

    private static Flag Switch(string name, string help, Func<SimulatorOptions, SimulatorOptions> apply) =>
        new(name, "", help, IsList: false, (o, _) => apply(o), IsSwitch: true);

    private static Flag List(string name, string valueName, string help, Func<SimulatorOptions, IReadOnlyList<string>, string, SimulatorOptions> apply) =>
        new(name, valueName, help, IsList: true, (o, v) =>
        {
            if (v.Count == 0)
            {
                throw new FormatException($"{name} needs at least one value");
            }

            return apply(o, v, name);
        });

    private static SimulatorOptions WithTracingEnvironment(SimulatorOptions options, Func<string, string?>? environment)
    {
        // As the OpenTelemetry SDK reads them: the variable for traces first, then the one for every signal.
        var variable = TracesProtocolVariable;
        var protocol = Variable(environment, variable);
        if (protocol is null)
        {
            variable = ProtocolVariable;
            protocol = Variable(environment, variable);
        }

        options = protocol switch
        {
            null or "grpc" => options with { OtlpTracesProtocol = OtlpExportProtocol.Grpc },
            "http/protobuf" => options with { OtlpTracesProtocol = OtlpExportProtocol.HttpProtobuf },
            _ => throw new FormatException($"{variable}: unsupported OTLP protocol '{protocol}' for --otlp-traces-endpoint (grpc or http/protobuf)"),
        };
        return Variable(environment, ServiceNameVariable) is { } serviceName ? options with { OtelServiceName = serviceName } : options;
    }

    private static string? Variable(Func<string, string?>? environment, string name) =>
        environment?.Invoke(name) is { } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    private static Uri HttpUrl(string name, string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : throw new FormatException($"{name}: '{value}' is not an absolute http:// or https:// URL");

    private static string NonEmpty(string name, string value) =>
        string.IsNullOrWhiteSpace(value) ? throw new FormatException($"{name} must not be empty") : value;

    private static int Int(string name, string value, int min, int max)
    {
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result))
        {
            throw new FormatException($"{name}: '{value}' is not a whole number");
        }

        return result < min || result > max
            ? throw new FormatException($"{name}: {result} is out of range ({min}..{max})")
            : result;
    }

    private static double Double(string name, string value, double min, double max)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var result) || !double.IsFinite(result))
        {
            throw new FormatException($"{name}: '{value}' is not a number");
        }

        return result < min || result > max
            ? throw new FormatException($"{name}: {result.ToString(CultureInfo.InvariantCulture)} is out of range ({min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)})")
            : result;
    }
}

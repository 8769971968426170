using System.Globalization;

namespace Gateway.LoadTests.Drills;

/// <summary>
/// The command line of the drills: <c>DRILL [--short] [--duration 2m] [--concurrency 5] [--host H] [--body JSON|@FILE]
/// [--stream] [--warmup 5s] [--rate 1000] [--streams 2000] [--gateway-url U --admin-url U] [--config PATH]
/// [--set Gateway:Key=value]... [--sample-interval 1s] [--settle-timeout 2m] [--sides spillover,roundrobin,seed] [--phases kill,...]
/// [--report PATH]</c>. Unset values take
/// the drill's defaults, full or short.
/// </summary>
internal sealed record DrillOptions
{
    public const string Usage = """
        usage: Gateway.LoadTests DRILL [options]
          drills:  peak       the seed's peak against the demo: split, scale-out, cloud replica-seconds, scale-in
                   compare    peak with SpillOver, with RoundRobin, and the seed's baseline (RoundRobin, HPA-like scaling)
                   overhead   straight to a simulator vs through the gateway: rps, added latency, per-chunk delay, memory
                   chaos      faults under the seed's load, each against a fresh demo: kill, stall, 503, mid-stream-kill,
                              scaler-failure, sigterm; every request completed, a clean error, lost or refused
                   tenants    tenants with keys, each phase against a fresh demo: priority (a Critical tenant's TTFT alone and
                              under a Sheddable flood), fairness (two Standard tenants at 1:10), residency (OnPremOnly under spill)
                   bridge     peak against config/examples/bridge.json with the provider bridge, without it (gpu-only), and
                              with a tiny budget: TTFT, queue wait, shares, cloud replica-seconds, cost per pool
          --short                 a few-seconds form (what CI runs)
          --duration TIME         load duration (2m, 30s, 500ms; a bare number is seconds; tenants: each phase's load)
          --concurrency N         clients of a closed loop (peak, chaos: 5; overhead: 32)
          --host NAME             Host header (peak: qwen-chat-default.example.com)
          --body JSON|@FILE       request body (peak: the seed's, max_tokens 10)
          --stream                peak: send streamed requests (TTFT measured at the client)
          --warmup TIME           warm-up before measuring
          --rate N                overhead: requests per second of the fixed-rate latency phase (1000)
          --streams N             overhead: concurrent streams of the memory phase (2000)
          --gateway-url URL       peak: use this running gateway instead of starting one
          --admin-url URL         peak: its admin listener (for /metrics and /admin/status)
          --config PATH           gateway configuration the drill starts (default: the repository's config/gateway.json;
                                  bridge: config/examples/bridge.json)
          --set KEY=VALUE         extra gateway override, e.g. --set Gateway:Services:0:Queue:MaxWaiting=10 (repeatable)
          --sample-interval TIME  between two scrapes of /metrics (1s; short: 250ms)
          --settle-timeout TIME   longest wait for the cloud pool back at its minimum after the load (3m; seed side 7m; short: 30s)
          --sides LIST            compare: which sides, in order (spillover,roundrobin,seed, the default);
                                  bridge: bridge,gpu-only,budget (the default)
          --phases LIST           chaos: which phases, in order (kill,stall,503,mid-stream-kill,scaler-failure,sigterm, the default);
                                  tenants: priority,fairness,residency (the default)
          --report PATH           JSON report (default loadtests/results/DRILL-UTCSTAMP.json)
        """;

    public required string Drill { get; init; }

    public bool Short { get; init; }

    public TimeSpan? Duration { get; init; }

    public int? Concurrency { get; init; }

    public string? Host { get; init; }

    public string? Body { get; init; }

    public bool Stream { get; init; }

    public TimeSpan? WarmUp { get; init; }

    public int? Rate { get; init; }

    public int? Streams { get; init; }

    public Uri? GatewayUrl { get; init; }

    public Uri? AdminUrl { get; init; }

    public string? ConfigPath { get; init; }

    public IReadOnlyList<string> Overrides { get; init; } = [];

    public TimeSpan? SampleInterval { get; init; }

    public TimeSpan? SettleTimeout { get; init; }

    public string? ReportPath { get; init; }

    /// <summary>The compare drill's sides, in order; null for all of them.</summary>
    public IReadOnlyList<string>? Sides { get; init; }

    /// <summary>The chaos or tenants drill's phases, in order; null for all of them.</summary>
    public IReadOnlyList<string>? Phases { get; init; }

    /// <summary>Reads the command line, or says what is wrong with it.</summary>
    public static DrillOptions Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0].StartsWith('-'))
        {
            throw new FormatException("name a drill: peak, compare, overhead, chaos, tenants or bridge");
        }

        var options = new DrillOptions { Drill = args[0] };
        if (options.Drill is not ("peak" or "compare" or "overhead" or "chaos" or "tenants" or "bridge"))
        {
            throw new FormatException($"unknown drill '{options.Drill}': peak, compare, overhead, chaos, tenants or bridge");
        }

        var overrides = new List<string>();
        for (var i = 1; i < args.Count; i++)
        {
            var flag = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new FormatException($"{flag} needs a value");
            options = flag switch
            {
                "--short" => options with { Short = true },
                "--stream" => options with { Stream = true },
                "--duration" => options with { Duration = Time(flag, Value()) },
                "--concurrency" => options with { Concurrency = Count(flag, Value()) },
                "--host" => options with { Host = Value() },
                "--body" => options with { Body = ReadBody(Value()) },
                "--warmup" => options with { WarmUp = Time(flag, Value(), allowZero: true) },
                "--rate" => options with { Rate = Count(flag, Value()) },
                "--streams" => options with { Streams = Count(flag, Value()) },
                "--gateway-url" => options with { GatewayUrl = Url(flag, Value()) },
                "--admin-url" => options with { AdminUrl = Url(flag, Value()) },
                "--config" => options with { ConfigPath = Path.GetFullPath(Value()) },
                "--set" => Add(options, overrides, Value()),
                "--sample-interval" => options with { SampleInterval = Time(flag, Value()) },
                "--settle-timeout" => options with { SettleTimeout = Time(flag, Value(), allowZero: true) },
                "--report" => options with { ReportPath = Path.GetFullPath(Value()) },
                "--sides" => options with { Sides = NameList(flag, Value(), options.Drill == "bridge" ? BridgeDrill.SideNames : CompareDrill.SideNames, "side") },
                "--phases" => options with { Phases = NameList(flag, Value(), options.Drill == "tenants" ? Tenants.TenantsDrill.PhaseNames : Chaos.ChaosDrill.PhaseNames, "phase") },
                _ => throw new FormatException($"unknown option '{flag}'"),
            };
        }

        if (options.AdminUrl is not null && options.GatewayUrl is null)
        {
            throw new FormatException("--admin-url goes with --gateway-url");
        }

        if (options.GatewayUrl is not null && options.Drill != "peak")
        {
            throw new FormatException($"--gateway-url: {options.Drill} starts gateways of its own configuration; only peak runs against a running one");
        }

        if (options.Sides is not null && options.Drill is not ("compare" or "bridge"))
        {
            throw new FormatException("--sides goes with compare or bridge");
        }

        if (options.Phases is not null && options.Drill is not ("chaos" or "tenants"))
        {
            throw new FormatException("--phases goes with chaos or tenants");
        }

        return options with { Overrides = overrides };
    }

    /// <summary>Parses <c>2m</c>, <c>30s</c>, <c>500ms</c>, or a number of seconds.</summary>
    public static TimeSpan Time(string flag, string value, bool allowZero = false)
    {
        var (number, unit) = value.EndsWith("ms", StringComparison.Ordinal) ? (value[..^2], 0.001)
            : value.EndsWith('s') ? (value[..^1], 1.0)
            : value.EndsWith('m') ? (value[..^1], 60.0)
            : value.EndsWith('h') ? (value[..^1], 3600.0)
            : (value, 1.0);
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n < 0 || (!allowZero && n == 0) || n * unit > 86_400)
        {
            throw new FormatException($"{flag}: '{value}' is not a duration (2m, 30s, 500ms)");
        }

        return TimeSpan.FromSeconds(n * unit);
    }

    private static int Count(string flag, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new FormatException($"{flag}: '{value}' is not a whole number above 0");

    private static string[] NameList(string flag, string value, IReadOnlyList<string> known, string what)
    {
        var names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var name in names)
        {
            if (!known.Contains(name))
            {
                throw new FormatException($"{flag}: unknown {what} '{name}': {string.Join(", ", known)}");
            }
        }

        return names.Length > 0 && names.Distinct().Count() == names.Length
            ? names
            : throw new FormatException($"{flag}: '{value}' names no {what}, or one twice");
    }

    private static Uri Url(string flag, string value) =>
        Uri.TryCreate(value.EndsWith('/') ? value : value + "/", UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new FormatException($"{flag}: '{value}' is not an http URL");

    private static string ReadBody(string value)
    {
        var text = value.StartsWith('@') ? File.ReadAllText(value[1..]) : value;
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(text);
            return json.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                ? text
                : throw new FormatException("--body: not a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new FormatException($"--body: not JSON ({e.Message})");
        }
    }

    private static DrillOptions Add(DrillOptions options, List<string> overrides, string value)
    {
        if (!value.Contains('=', StringComparison.Ordinal) || !value.StartsWith("Gateway:", StringComparison.Ordinal))
        {
            throw new FormatException($"--set: '{value}' is not Gateway:Key=value");
        }

        overrides.Add("--" + value);
        return options;
    }
}

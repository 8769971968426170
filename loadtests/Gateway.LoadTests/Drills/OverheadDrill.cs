using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.LoadTests.Engine;
using Gateway.LoadTests.Reports;
using Gateway.LoadTests.Targets;

namespace Gateway.LoadTests.Drills;

/// <summary>
/// What the gateway costs per request. The same requests go straight to a backend and through a gateway whose only
/// replica is that backend: a simulator with zero latencies for plain and streamed throughput (closed loop) and for
/// latency at a fixed rate (open loop), and the drill's own <see cref="SseBackend"/> for the delay added to each
/// streamed chunk. Then a fresh gateway carries a burst of concurrent streams while its resident set is sampled.
/// </summary>
internal static partial class OverheadDrill
{
    private const string SimulatorHost = "qwen-chat-default.example.com";
    private const string SseHost = "sse-chat-default.example.com";

    public static async Task<OverheadResult> RunAsync(DrillOptions options, CancellationToken cancellationToken)
    {
        var settings = OverheadSettings.From(options);
        var work = Directory.CreateTempSubdirectory("gateway-overhead-");
        try
        {
            Console.Error.WriteLine("[overhead] starting a simulator (zero latencies), the SSE backend and a gateway in front of both");
            var (simulatorProcess, listening) = await DrillProcess.StartListeningAsync(
                "Gateway.Simulator.dll",
                ["--port", "0", "--served-model-name", "qwen", "--max-num-seqs", "4096", "--max-waiting-queue-length", "100000"],
                SimulatorListening(),
                TimeSpan.FromSeconds(60));
            await using var simulator = simulatorProcess;
            var simulatorAddress = new Uri(listening.Groups[1].Value + "/");
            await using var sse = await SseBackend.StartAsync(cancellationToken);
            var configPath = Path.Combine(work.FullName, "overhead.json");
            await File.WriteAllTextAsync(configPath, Configuration(simulatorAddress, sse.BaseAddress), cancellationToken);

            using var client = LoadClient.Create(TimeSpan.FromMinutes(1));
            Comparison plain, streamed, fixedRate;
            ChunkComparison chunks;
            await using (var gateway = await GatewayUnderTest.StartAsync(configPath, options.Overrides, cancellationToken))
            {
                ChatRequest Chat(bool viaGateway, bool stream) => viaGateway
                    ? new ChatRequest(client, gateway.PublicAddress, SimulatorHost, settings.Body, stream)
                    : new ChatRequest(client, simulatorAddress, null, settings.Body, stream);

                // Tiered JIT and dynamic PGO need traffic before the hot paths run their final code, on both sides.
                var warmUp = new LoadSimulation.KeepConstant(settings.Concurrency, settings.WarmUp);
                Console.Error.WriteLine($"[overhead] warm-up: {warmUp}, each of 4 paths");
                foreach (var (via, stream) in new[] { (false, false), (true, false), (false, true), (true, true) })
                {
                    await ScenarioRunner.RunAsync(Chat(via, stream).ToScenario("warm-up"), null, warmUp, cancellationToken);
                }

                var closed = new LoadSimulation.KeepConstant(settings.Concurrency, settings.Round);
                plain = await CompareAsync("plain, closed loop", Chat(false, false), Chat(true, false), closed, settings.Rounds, cancellationToken);
                streamed = await CompareAsync("streamed, closed loop", Chat(false, true), Chat(true, true), closed, settings.Rounds, cancellationToken);
                fixedRate = await CompareAsync("plain, fixed rate", Chat(false, false), Chat(true, false),
                    new LoadSimulation.Inject(settings.Rate, settings.Round), settings.Rounds, cancellationToken);
                chunks = await CompareChunksAsync(settings, client, sse, gateway, cancellationToken);
            }

            var memory = await MeasureStreamsAsync(settings, configPath, sse, options.Overrides, cancellationToken);
            return new OverheadResult(settings, plain, streamed, fixedRate, chunks, memory, Targets(plain, fixedRate, chunks, memory));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    public static string Markdown(OverheadResult result)
    {
        var s = result.Settings;
        static string Pair(double a, double b) => $"{MarkdownTable.Cell(a)} / {MarkdownTable.Cell(b)}";
        var throughput = new MarkdownTable("", "direct", "through the gateway", "gateway / direct");
        foreach (var (name, c) in new[] { ("plain rps", result.Plain), ("streamed rps", result.Streamed) })
        {
            throughput.Row($"{name} ({s.Concurrency} clients, {s.DurationSeconds:0.#} s)", c.Direct.RequestsPerSecond, c.Gateway.RequestsPerSecond, c.RpsRatio);
        }

        foreach (var (name, c) in new[] { ("plain", result.Plain), ("streamed", result.Streamed) })
        {
            throughput.Row($"{name} latency p50 / p99 (ms), closed loop", Pair(c.Direct.LatencyMs.P50, c.Direct.LatencyMs.P99), Pair(c.Gateway.LatencyMs.P50, c.Gateway.LatencyMs.P99), "");
        }

        var r = result.FixedRate;
        throughput.Row($"plain at {s.Rate}/s: achieved rps", r.Direct.RequestsPerSecond, r.Gateway.RequestsPerSecond, "");
        throughput.Row($"plain at {s.Rate}/s: latency p50 / p99 (ms)", Pair(r.Direct.LatencyMs.P50, r.Direct.LatencyMs.P99), Pair(r.Gateway.LatencyMs.P50, r.Gateway.LatencyMs.P99),
            $"added {Pair(r.AddedP50Ms, r.AddedP99Ms)}");
        var c2 = result.Chunks;
        throughput.Row($"per chunk p50 / p99 (ms), {c2.Chunks:#,0} chunks", Pair(c2.DirectMs.P50, c2.DirectMs.P99), Pair(c2.GatewayMs.P50, c2.GatewayMs.P99),
            $"added {Pair(c2.AddedP50Ms, c2.AddedP99Ms)}");
        throughput.Row("failed (all phases)", result.Failed(direct: true), result.Failed(direct: false), "");

        var m = result.Memory;
        var memory = new MarkdownTable("", "value");
        memory.Row("streams (ok / failed)", $"{m.Streams:#,0} ({m.Ok:#,0} / {m.Failed:#,0})");
        memory.Row("most open at once at the backend", m.PeakOpenAtBackend);
        memory.Row("gateway RSS before (MB)", m.RssBeforeMb);
        memory.Row("gateway RSS peak, sampled every 50 ms (MB)", m.PeakRssSampledMb);
        memory.Row("gateway VmHWM (MB)", m.VmHwmMb);

        var targets = new MarkdownTable("target", "wanted", "measured", "met");
        foreach (var t in result.Targets)
        {
            targets.Row(t.Name, t.Wanted, t.Measured, t.Met);
        }

        return new StringBuilder()
            .AppendLine(throughput.ToString())
            .AppendLine($"Each side ran {s.DurationSeconds:0.#} s per phase in {s.Rounds} rounds alternating with the other side, so other load on the machine falls on both alike. "
                + "Added latency is the gateway's percentile minus the direct one (not the percentile of differences).")
            .AppendLine()
            .AppendLine($"### {m.Streams:#,0} concurrent streams through a fresh gateway ({m.ChunksPerStream} chunks, {m.ChunkIntervalMs} ms apart)")
            .AppendLine()
            .AppendLine(memory.ToString())
            .AppendLine(result.Settings.Short ? "### Targets (short form: indicative only)" : "### Targets (issue 7)")
            .AppendLine()
            .AppendLine(targets.ToString())
            .ToString();
    }

    private static async Task<Comparison> CompareAsync(
        string name, ChatRequest direct, ChatRequest viaGateway, LoadSimulation round, int rounds, CancellationToken cancellationToken)
    {
        Console.Error.WriteLine($"[overhead] {name}: {rounds} x ({round} direct, then through the gateway)");
        var (straight, through) = await ScenarioRunner.RunAlternatingAsync(
            direct.ToScenario($"{name}, direct"), viaGateway.ToScenario($"{name}, gateway"), round, rounds, cancellationToken);
        return new Comparison(
            straight,
            through,
            straight.RequestsPerSecond == 0 ? 0 : Math.Round(through.RequestsPerSecond / straight.RequestsPerSecond, 3),
            Math.Round(through.LatencyMs.P50 - straight.LatencyMs.P50, 3),
            Math.Round(through.LatencyMs.P99 - straight.LatencyMs.P99, 3));
    }

    private static async Task<ChunkComparison> CompareChunksAsync(
        OverheadSettings settings, HttpClient client, SseBackend sse, GatewayUnderTest gateway, CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromMilliseconds(settings.ChunkIntervalMs);
        ChunkStream Stream(bool viaGateway) => viaGateway
            ? new ChunkStream(client, gateway.PublicAddress, SseHost, settings.ChunksPerStream, interval)
            : new ChunkStream(client, sse.BaseAddress, null, settings.ChunksPerStream, interval);

        var round = new LoadSimulation.KeepConstant(settings.ChunkStreams, settings.Round);
        Console.Error.WriteLine(
            $"[overhead] per-chunk delay: {settings.Rounds} x ({round} direct, then through the gateway), {settings.ChunksPerStream} chunks {settings.ChunkIntervalMs} ms apart");
        foreach (var via in new[] { false, true })
        {
            await ScenarioRunner.RunAsync(Stream(via).ToScenario("warm-up"), null, new LoadSimulation.KeepConstant(settings.ChunkStreams, settings.WarmUp), cancellationToken);
        }

        var (direct, through) = (Stream(false), Stream(true));
        var (directStats, throughStats) = await ScenarioRunner.RunAlternatingAsync(
            direct.ToScenario("chunks, direct"), through.ToScenario("chunks, gateway"), round, settings.Rounds, cancellationToken);
        var directMs = Percentiles.FromNanoseconds(direct.Delays);
        var throughMs = Percentiles.FromNanoseconds(through.Delays);
        return new ChunkComparison(directStats, throughStats, directMs, throughMs, direct.Chunks + through.Chunks,
            Math.Round(throughMs.P50 - directMs.P50, 4), Math.Round(throughMs.P99 - directMs.P99, 4));
    }

    private static async Task<MemoryFigures> MeasureStreamsAsync(
        OverheadSettings settings, string configPath, SseBackend sse, IReadOnlyList<string> overrides, CancellationToken cancellationToken)
    {
        Console.Error.WriteLine($"[overhead] memory: {settings.MemoryStreams} concurrent streams through a fresh gateway");
        await using var gateway = await GatewayUnderTest.StartAsync(configPath, overrides, cancellationToken);
        var process = gateway.Process!;
        var before = process.Memory()?.CurrentMb ?? 0;
        using var client = LoadClient.Create(TimeSpan.FromMinutes(2));
        var stream = new ChunkStream(client, gateway.PublicAddress, SseHost, settings.MemoryChunks, TimeSpan.FromMilliseconds(settings.MemoryIntervalMs));
        sse.ResetPeak();

        using var stopSampling = new CancellationTokenSource();
        var peakSampled = before;
        var sampling = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
            try
            {
                while (await timer.WaitForNextTickAsync(stopSampling.Token))
                {
                    peakSampled = Math.Max(peakSampled, process.Memory()?.CurrentMb ?? 0);
                }
            }
            catch (OperationCanceledException)
            {
                // Done.
            }
        }, CancellationToken.None);

        var started = Stopwatch.GetTimestamp();
        var stats = await ScenarioRunner.RunAsync(stream.ToScenario("streams"), null,
            new LoadSimulation.IterationsForConstant(settings.MemoryStreams, settings.MemoryStreams), cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);
        await stopSampling.CancelAsync();
        await sampling;
        var memory = process.Memory();
        return new MemoryFigures(settings.MemoryStreams, settings.MemoryChunks, settings.MemoryIntervalMs, stats.Ok, stats.Failed, stats.ByStatus,
            sse.PeakOpenStreams, Math.Round(elapsed.TotalSeconds, 2), before, Math.Max(peakSampled, memory?.CurrentMb ?? 0), memory?.PeakMb ?? 0);
    }

    private static List<TargetCheck> Targets(Comparison plain, Comparison fixedRate, ChunkComparison chunks, MemoryFigures memory) =>
        [
            new("plain added latency p50 at the fixed rate (ms)", "<= 0.3", fixedRate.AddedP50Ms, fixedRate.AddedP50Ms <= 0.3),
            new("plain added latency p99 at the fixed rate (ms)", "<= 1", fixedRate.AddedP99Ms, fixedRate.AddedP99Ms <= 1),
            new("added delay per chunk p50 (ms)", "<= 0.1", chunks.AddedP50Ms, chunks.AddedP50Ms <= 0.1),
            new("added delay per chunk p99 (ms)", "<= 0.5", chunks.AddedP99Ms, chunks.AddedP99Ms <= 0.5),
            new("plain rps through the gateway", ">= 25,000", plain.Gateway.RequestsPerSecond, plain.Gateway.RequestsPerSecond >= 25_000),
            new($"{memory.Streams:#,0} streams: gateway peak RSS (MB)", "< 400", memory.VmHwmMb, memory.VmHwmMb < 400 && memory.Failed == 0),
        ];

    /// <summary>One service per backend, routed by Host; capacities and queue far above the load, so only forwarding is measured.</summary>
    private static string Configuration(Uri simulator, Uri sse)
    {
        static JsonObject Service(string name, string model, string pool, Uri address, bool scrape) => new()
        {
            ["Name"] = name,
            ["Namespace"] = "default",
            ["Models"] = new JsonArray(model),
            ["Queue"] = new JsonObject { ["MaxWaiting"] = 100_000, ["MaxWaitSeconds"] = 60 },
            ["Pools"] = new JsonArray(new JsonObject
            {
                ["Name"] = pool,
                ["Priority"] = 0,
                ["CapacityPerReplica"] = 100_000,
                ["Static"] = new JsonArray(address.ToString().TrimEnd('/')),
                ["Load"] = new JsonObject { ["Enabled"] = scrape },
            }),
        };

        var config = new JsonObject
        {
            ["Gateway"] = new JsonObject
            {
                ["PublicUrl"] = "http://127.0.0.1:0",
                ["AdminUrl"] = "http://127.0.0.1:0",
                ["Domain"] = "example.com",
                ["DrainTimeoutSeconds"] = 5,
                ["Services"] = new JsonArray(
                    Service("qwen-chat", "qwen", "simulator", simulator, scrape: true),
                    Service("sse-chat", "sse", "sse", sse, scrape: false)),
            },
        };
        return config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    [GeneratedRegex(@"listening on (http://\S+)")]
    private static partial Regex SimulatorListening();
}

/// <summary>What the overhead drill ran with, defaults filled in.</summary>
internal sealed record OverheadSettings(
    bool Short,
    int Concurrency,
    double DurationSeconds,
    double WarmUpSeconds,
    int Rate,
    int ChunkStreams,
    int ChunksPerStream,
    double ChunkIntervalMs,
    int MemoryStreams,
    int MemoryChunks,
    double MemoryIntervalMs,
    string Body)
{
    /// <summary>Each side of a phase runs its duration in rounds of about 2 s, alternating with the other side.</summary>
    public int Rounds => Math.Max(1, (int)Math.Round(DurationSeconds / 2));

    public TimeSpan Round => TimeSpan.FromSeconds(DurationSeconds / Rounds);

    public TimeSpan WarmUp => TimeSpan.FromSeconds(WarmUpSeconds);

    public static OverheadSettings From(DrillOptions options) => options.Short
        ? new(true, options.Concurrency ?? 4, (options.Duration ?? TimeSpan.FromSeconds(1)).TotalSeconds, (options.WarmUp ?? TimeSpan.FromSeconds(0.5)).TotalSeconds,
            options.Rate ?? 200, 4, 10, 5, options.Streams ?? 200, 20, 50, options.Body ?? ChatRequest.SeedBody)
        : new(false, options.Concurrency ?? 32, (options.Duration ?? TimeSpan.FromSeconds(10)).TotalSeconds, (options.WarmUp ?? TimeSpan.FromSeconds(5)).TotalSeconds,
            options.Rate ?? 1000, 16, 50, 10, options.Streams ?? 2000, 100, 50, options.Body ?? ChatRequest.SeedBody);
}

/// <summary>The same load straight to the backend and through the gateway.</summary>
internal sealed record Comparison(ScenarioStats Direct, ScenarioStats Gateway, double RpsRatio, double AddedP50Ms, double AddedP99Ms);

/// <summary>Per-chunk delays (send stamp to receipt) straight from the SSE backend and through the gateway.</summary>
internal sealed record ChunkComparison(ScenarioStats Direct, ScenarioStats Gateway, Percentiles DirectMs, Percentiles GatewayMs, long Chunks, double AddedP50Ms, double AddedP99Ms);

/// <summary>A burst of concurrent streams through a fresh gateway and its resident set meanwhile.</summary>
internal sealed record MemoryFigures(
    int Streams,
    int ChunksPerStream,
    double ChunkIntervalMs,
    long Ok,
    long Failed,
    IReadOnlyDictionary<string, long> ByStatus,
    int PeakOpenAtBackend,
    double Seconds,
    double RssBeforeMb,
    double PeakRssSampledMb,
    double VmHwmMb);

/// <summary>One of issue 7's targets, against what was measured.</summary>
internal sealed record TargetCheck(string Name, string Wanted, double Measured, bool Met);

/// <summary>Everything the overhead drill measured.</summary>
internal sealed record OverheadResult(
    OverheadSettings Settings,
    Comparison Plain,
    Comparison Streamed,
    Comparison FixedRate,
    ChunkComparison Chunks,
    MemoryFigures Memory,
    IReadOnlyList<TargetCheck> Targets)
{
    /// <summary>Failed requests of every phase, of one side.</summary>
    public long Failed(bool direct) => direct
        ? Plain.Direct.Failed + Streamed.Direct.Failed + FixedRate.Direct.Failed + Chunks.Direct.Failed
        : Plain.Gateway.Failed + Streamed.Gateway.Failed + FixedRate.Gateway.Failed + Chunks.Gateway.Failed + Memory.Failed;
}

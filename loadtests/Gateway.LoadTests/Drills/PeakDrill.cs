using Gateway.LoadTests.Engine;
using Gateway.LoadTests.Targets;

namespace Gateway.LoadTests.Drills;

/// <summary>
/// The seed's peak: a closed loop of clients (5 for 2 minutes by default, as <c>hey -c 5 -z 2m</c>) against the demo,
/// whose on-prem replica serves 2 at once, while the gateway's <c>/metrics</c> is sampled; then sampling goes on until
/// the cloud pool is back at its minimum. The warm-up is one client, under on-prem's capacity, so it warms both
/// sides' code without starting the scale-out the peak is about.
/// </summary>
internal static class PeakDrill
{
    public const string DefaultHost = "qwen-chat-default.example.com";

    public static async Task<PeakResult> RunAsync(DrillOptions options, IReadOnlyList<string> sideOverrides, string label, CancellationToken cancellationToken)
    {
        var settings = PeakSettings.From(options);
        var configPath = options.ConfigPath ?? Repository.DemoConfigPath;
        List<string> overrides = [.. options.Short ? Repository.ShortScalingOverrides(configPath) : [], .. sideOverrides, .. options.Overrides];
        Console.Error.WriteLine($"[{label}] {(options.GatewayUrl is null ? "starting the gateway" : "using the gateway at " + options.GatewayUrl)}");
        await using var gateway = options.GatewayUrl is null
            ? await GatewayUnderTest.StartAsync(configPath, overrides, cancellationToken)
            : GatewayUnderTest.Attach(options.GatewayUrl, options.AdminUrl);
        if (gateway.Process is { } started)
        {
            Console.Error.WriteLine($"[{label}] gateway pid {started.Id} on {gateway.PublicAddress} (admin {gateway.AdminAddress})");
        }

        var layout = gateway.AdminAddress is null ? null : await ServiceLayout.ReadAsync(gateway.AdminAddress, settings.Host, cancellationToken);

        using var client = LoadClient.Create(TimeSpan.FromMinutes(2));
        var chat = new ChatRequest(client, gateway.PublicAddress, settings.Host, settings.Body, settings.Streamed).ToScenario(label);
        Console.Error.WriteLine($"[{label}] warm-up: 1 client for {settings.WarmUp.TotalSeconds:0.#} s");
        await ScenarioRunner.RunAsync(chat, null, new LoadSimulation.KeepConstant(1, settings.WarmUp), cancellationToken);

        await using var sampler = gateway.AdminAddress is null ? null : new MetricsSampler(gateway.AdminAddress, settings.SampleInterval);
        if (sampler is not null)
        {
            await sampler.WarmUpAsync(cancellationToken);
            sampler.SetOrigin();
            await sampler.SampleAsync(cancellationToken);
            sampler.Start();
        }

        var load = new LoadSimulation.KeepConstant(settings.Concurrency, settings.Duration);
        Console.Error.WriteLine($"[{label}] peak: {load}");
        var stats = await ScenarioRunner.RunAsync(chat, null, load, cancellationToken);
        if (sampler is null || layout is null)
        {
            return new PeakResult(label, null, settings, stats, null);
        }

        var loadEnded = sampler.Now;
        var cloud = layout.Cloud.Select(p => p.Name).ToArray();
        var cloudMin = layout.Cloud.Sum(p => p.MinReplicas);
        Console.Error.WriteLine($"[{label}] load ended; sampling until the cloud pool is back at {cloudMin} (at most {settings.SettleTimeout.TotalSeconds:0} s)");
        while (sampler.Now < loadEnded + settings.SettleTimeout.TotalSeconds)
        {
            var latest = sampler.Samples()[^1];
            if (latest.At > loadEnded && cloud.Sum(pool => latest.Sum("gateway_pool_replicas", ("service", layout.Service), ("pool", pool))) <= cloudMin)
            {
                break;
            }

            await Task.Delay(settings.SampleInterval / 2, cancellationToken);
        }

        await sampler.SampleAsync(cancellationToken);
        var scaleOut = await ScaleEventLog.FirstScaleOutAsync(gateway.AdminAddress!, layout.Service, cloud, sampler.OriginTime, cancellationToken);
        var figures = PeakFigures.From(sampler.Samples(), layout, loadEnded, settings.SampleInterval,
            scaleOut is { } at ? Math.Round((at - sampler.OriginTime).TotalSeconds, 3) : null);
        return new PeakResult(label, layout.Balancing, settings, stats, figures);
    }
}

/// <summary>What a peak ran with, defaults filled in.</summary>
internal sealed record PeakSettings(
    double DurationSeconds,
    int Concurrency,
    string Host,
    bool Streamed,
    string Body,
    double WarmUpSeconds,
    double SampleIntervalSeconds,
    double SettleTimeoutSeconds,
    string FirstTokenMeasure)
{
    public TimeSpan Duration => TimeSpan.FromSeconds(DurationSeconds);

    public TimeSpan WarmUp => TimeSpan.FromSeconds(WarmUpSeconds);

    public TimeSpan SampleInterval => TimeSpan.FromSeconds(SampleIntervalSeconds);

    public TimeSpan SettleTimeout => TimeSpan.FromSeconds(SettleTimeoutSeconds);

    public static PeakSettings From(DrillOptions options) => new(
        (options.Duration ?? (options.Short ? TimeSpan.FromSeconds(6) : TimeSpan.FromMinutes(2))).TotalSeconds,
        options.Concurrency ?? 5,
        options.Host ?? PeakDrill.DefaultHost,
        options.Stream,
        options.Body ?? ChatRequest.SeedBody,
        (options.WarmUp ?? (options.Short ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(5))).TotalSeconds,
        (options.SampleInterval ?? (options.Short ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(1))).TotalSeconds,
        (options.SettleTimeout ?? (options.Short ? TimeSpan.FromSeconds(30) : TimeSpan.FromMinutes(3))).TotalSeconds,
        options.Stream
            ? "the client's first SSE event with generated text"
            : "the client's first body byte (a plain answer arrives whole, so this is about its latency); for the gateway's own view see its TTFT histogram");
}

/// <summary>One peak: the client's view (counts, rate, latency, TTFT) and the gateway's (split, scaling, cost).</summary>
internal sealed record PeakResult(string Label, string? Balancing, PeakSettings Settings, ScenarioStats Client, PeakFigures? Gateway);

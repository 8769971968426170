using System.Globalization;
using Gateway.LoadTests.Targets;
using Gateway.Testing;

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// The chaos drill: one phase per fault, each against a freshly started gateway (the demo, with the short scaling
/// overrides in the short form) so each phase's figures stand alone. A phase runs its clients' closed loop for the
/// steady time, injects its fault and holds it through its window, keeps the load through a recovery window, stops
/// sending, waits for every request under way to end or reach its deadline, and classifies every request.
/// </summary>
internal static class ChaosDrill
{
    public static readonly IReadOnlyList<string> PhaseNames = ["kill", "stall", "503", "mid-stream-kill", "scaler-failure", "sigterm"];

    private const string RetriesMetric = "gateway_retries_total";
    private const string RejectedMetric = "gateway_rejected_total";

    public static async Task<ChaosResult> RunAsync(DrillOptions options, CancellationToken cancellationToken)
    {
        var settings = ChaosSettings.From(options);
        var configPath = options.ConfigPath ?? Repository.DemoConfigPath;
        var phases = new List<PhaseResult>();
        foreach (var name in options.Phases ?? PhaseNames)
        {
            phases.Add(await RunPhaseAsync(Create(name), configPath, settings, options, cancellationToken));
        }

        return new ChaosResult(settings, phases);
    }

    private static ChaosPhase Create(string name) => name switch
    {
        "kill" => new KillPhase(),
        "stall" => new StallPhase(),
        "503" => new UnavailablePhase(),
        "mid-stream-kill" => new MidStreamKillPhase(),
        "scaler-failure" => new ScalerFailurePhase(),
        "sigterm" => new SigtermPhase(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown phase"),
    };

    private static async Task<PhaseResult> RunPhaseAsync(
        ChaosPhase phase, string configPath, ChaosSettings settings, DrillOptions options, CancellationToken cancellationToken)
    {
        var label = $"[chaos {phase.Name}]";
        var setup = await phase.SetUpAsync(configPath, settings, options.Short, cancellationToken);
        await using var resources = setup.Resources;
        List<string> overrides = [.. options.Short ? Repository.ShortScalingOverrides(setup.ConfigPath) : [], .. setup.Overrides, .. options.Overrides];
        Console.Error.WriteLine($"{label} starting the gateway");
        await using var gateway = await GatewayUnderTest.StartAsync(setup.ConfigPath, overrides, cancellationToken);
        Console.Error.WriteLine($"{label} gateway pid {gateway.Process!.Id} on {gateway.PublicAddress}");
        var layout = await ServiceLayout.ReadAsync(gateway.AdminAddress!, settings.Host, cancellationToken);
        using var admin = LoadClient.Create(TimeSpan.FromSeconds(5));
        admin.BaseAddress = gateway.AdminAddress;
        var before = await ScrapeAsync(admin, cancellationToken);

        // The clients' deadline is theirs to keep; the HttpClient's own timeout would only cover the headers.
        using var client = LoadClient.Create(Timeout.InfiniteTimeSpan);
        var plans = Enumerable.Range(0, settings.Clients).Select(phase.Client).ToList();
        var requests = plans
            .Select(plan => new ChaosRequest(
                client, gateway.PublicAddress, settings.Host, plan.MaxTokens is { } tokens ? WithMaxTokens(settings.Body, tokens) : settings.Body, plan.Streamed, settings.ClientDeadline))
            .ToList();
        var process = gateway.Process;
        var load = ChaosLoad.Start(requests, () => process.HasExited, cancellationToken);
        var watch = StatusWatch.Start(admin, layout.Service, () => load.Now, settings.StatusInterval);
        var run = new PhaseRun(phase.Name, gateway, layout, settings, load, watch);
        IReadOnlyList<RequestRecord> records;
        Injection injected;
        double loadEndedAt;
        try
        {
            run.Log($"{requests.Count(r => !r.Streamed)} plain and {requests.Count(r => r.Streamed)} streamed clients");
            await Task.Delay(settings.Steady, cancellationToken);
            injected = await phase.InjectAsync(run, cancellationToken);

            // After SIGTERM the window shows what a client meets once the gateway is gone; each client stops at its refusal.
            run.Log("recovery window");
            await Task.WhenAny(Task.Delay(settings.Recovery, cancellationToken), load.AllClientsStopped);
            cancellationToken.ThrowIfCancellationRequested();

            loadEndedAt = load.Now;
            run.Log("load stopped; waiting for the requests under way");
        }
        finally
        {
            records = await load.StopAsync();
            await watch.DisposeAsync();
        }

        var after = process.HasExited ? null : await ScrapeAsync(admin, cancellationToken);
        var result = PhaseResult.From(
            phase.Name,
            new PhaseLoad([.. plans.Select(p => p with { MaxTokens = p.MaxTokens ?? MaxTokensOf(settings.Body) })], phase.LoadNote),
            injected,
            loadEndedAt,
            records,
            after is null ? null : Delta(before, after, RetriesMetric, "reason", layout.Service),
            after is null ? null : Delta(before, after, RejectedMetric, "reason", layout.Service),
            watch.Pids(run.OnPremPool));
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label} {result.Requests} requests: {result.Completed} completed, {result.CleanErrors} clean errors, {result.Lost} lost, {result.Refused} refused"));
        return result;
    }

    private static string WithMaxTokens(string body, int maxTokens)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(body)!.AsObject();
        json["max_tokens"] = maxTokens;
        return json.ToJsonString();
    }

    private static int? MaxTokensOf(string body) =>
        System.Text.Json.Nodes.JsonNode.Parse(body)?["max_tokens"]?.GetValue<int>();

    private static async Task<IReadOnlyDictionary<string, double>> ScrapeAsync(HttpClient admin, CancellationToken cancellationToken) =>
        MetricsText.Parse(await admin.GetStringAsync(new Uri("metrics", UriKind.Relative), cancellationToken));

    /// <summary>How much each <paramref name="label"/> value of <paramref name="metric"/> (summed over its other labels) grew over the phase.</summary>
    private static SortedDictionary<string, double> Delta(
        IReadOnlyDictionary<string, double> before, IReadOnlyDictionary<string, double> after, string metric, string label, string service)
    {
        var delta = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (key, value) in after)
        {
            if (!key.StartsWith(metric + "{", StringComparison.Ordinal) || !key.Contains($"service=\"{service}\"", StringComparison.Ordinal))
            {
                continue;
            }

            var at = key.IndexOf(label + "=\"", StringComparison.Ordinal);
            if (at < 0)
            {
                continue;
            }

            at += label.Length + 2;
            var name = key[at..key.IndexOf('"', at)];
            delta[name] = delta.GetValueOrDefault(name) + value - before.GetValueOrDefault(key);
        }

        return delta;
    }
}

/// <summary>A chaos run: the settings every phase shared and each phase's figures, in the order they ran.</summary>
internal sealed record ChaosResult(ChaosSettings Settings, IReadOnlyList<PhaseResult> Phases);

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Testing;

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// <c>scaler-failure</c>: the demo's cloud pool scaled through a webhook (its replicas at candidate addresses where a
/// receiver run by the drill starts real simulator processes on request), whose receiver answers 500 to its first
/// <see cref="FailedCalls"/> calls. The peak's first scale-out fails; the gateway's webhook client retries it and the
/// overflow waits in the queue until the cloud replicas join, within the deadline. None should fail.
/// </summary>
internal sealed class ScalerFailurePhase : ChaosPhase
{
    /// <summary>Calls answered 500: with the webhook's default 3 retries, the first scaling call succeeds at its third attempt.</summary>
    public const int FailedCalls = 2;

    // A pool's key in the configuration, not this phase's Name.
    private const string PoolName = "Name";

    private CandidateCloud? _cloud;
    private string? _pool;

    public override string Name => "scaler-failure";

    public override ClientPlan Client(int index) => index % 2 == 1 ? ClientPlan.Stream : ClientPlan.Plain;

    public override string LoadNote => "plain and streamed alternating by client; nothing is killed here, so streams can complete";

    /// <summary>
    /// Derives the configuration: the first elastic Process pool becomes a Static pool of candidate addresses scaled by a
    /// webhook to a <see cref="CandidateCloud"/> that starts the pool's own simulator command line there.
    /// </summary>
    public override async Task<PhaseSetup> SetUpAsync(string configPath, ChaosSettings settings, bool isShort, CancellationToken cancellationToken)
    {
        var config = JsonNode.Parse(
            await File.ReadAllTextAsync(configPath, cancellationToken),
            documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!;
        var pools = config["Gateway"]!["Services"]![0]!["Pools"]!.AsArray();
        var pool = pools.FirstOrDefault(p => p?["Scaling"] is not null && p["Process"] is not null)?.AsObject()
            ?? throw new InvalidOperationException($"{configPath}: scaler-failure needs an elastic Process pool in the first service");
        _pool = pool[PoolName]!.GetValue<string>();
        var arguments = pool["Process"]!["Arguments"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        if (arguments.Count == 0 || !arguments[0].EndsWith("Gateway.Simulator.dll", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{configPath}: scaler-failure starts the simulator at the candidates; pool {_pool} runs '{arguments.FirstOrDefault()}'");
        }

        // The candidate cloud passes --port itself; the short form boots in 1 s, as the short Process pool does.
        var simulatorArgs = new List<string>();
        for (var i = 1; i < arguments.Count; i++)
        {
            if (arguments[i] == "--port")
            {
                i++;
                continue;
            }

            simulatorArgs.Add(arguments[i]);
            if (isShort && arguments[i] == "--startup-duration" && i + 1 < arguments.Count)
            {
                simulatorArgs.Add("1");
                i++;
            }
        }

        var candidates = pool["Scaling"]!["MaxReplicas"]?.GetValue<int>() ?? 1;
        _cloud = await CandidateCloud.StartAsync(candidates, FailedCalls, [.. simulatorArgs]);
        pool.Remove("Process");
        pool["Static"] = new JsonArray([.. _cloud.Candidates.Select(c => (JsonNode)c.ToString().TrimEnd('/'))]);
        pool["Scaling"]!["Webhook"] = new JsonObject { ["Url"] = _cloud.Url.ToString() };

        var folder = Directory.CreateTempSubdirectory("chaos-webhook-");
        var derived = Path.Combine(folder.FullName, "gateway.json");
        await File.WriteAllTextAsync(derived, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
        return new PhaseSetup(derived, [], new Resources(_cloud, folder));
    }

    public override async Task<Injection> InjectAsync(PhaseRun run, CancellationToken cancellationToken)
    {
        var cloud = _cloud ?? throw new InvalidOperationException("not set up");
        run.Log($"the webhook has had {cloud.Calls.Count} calls, {cloud.FailedCalls} answered 500; holding");
        await Task.Delay(run.Settings.Fault, cancellationToken);

        // Held until the cloud answers (a loaded machine starts its simulators slowly), up to the queue's deadline: the
        // phase is about the requests that wait for it.
        if (await run.Watch.WaitForAsync(_pool!, r => r.Served > 0, TimeSpan.FromSeconds(30), cancellationToken) is null)
        {
            run.Log("no cloud replica served within 30 s");
        }

        var origin = DateTime.UtcNow - TimeSpan.FromSeconds(run.Now);
        var calls = cloud.Calls;
        double? Seconds(DateTime at) => Math.Round((at - origin).TotalSeconds, 3);
        var firstJoined = run.Watch.FirstAt(_pool!, 0, r => r.State == "ready");
        var firstServed = run.Watch.FirstAt(_pool!, 0, r => r.Served > 0);
        return new Injection(
            string.Create(CultureInfo.InvariantCulture, $"the cloud's scaling webhook answers 500 to its first {FailedCalls} calls"),
            0,
            calls.Count > FailedCalls ? Seconds(calls[FailedCalls].At)!.Value : Math.Round(run.Now, 3),
            new Dictionary<string, object?>
            {
                ["webhookCalls"] = calls.Count,
                ["webhookCallsFailed"] = cloud.FailedCalls,
                ["firstCallAt"] = calls.Count > 0 ? Seconds(calls[0].At) : null,
                ["firstSuccessfulCallAt"] = calls.Count > FailedCalls ? Seconds(calls[FailedCalls].At) : null,
                ["cloudReplicasStarted"] = cloud.Running,
                ["firstCloudReplicaReadyAt"] = firstJoined,
                ["firstCloudAnswerAt"] = firstServed,
            });
    }

    /// <summary>The candidate cloud and the derived configuration's folder, gone with the phase.</summary>
    private sealed class Resources(CandidateCloud cloud, DirectoryInfo folder) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await cloud.DisposeAsync();
            folder.Delete(recursive: true);
        }
    }
}

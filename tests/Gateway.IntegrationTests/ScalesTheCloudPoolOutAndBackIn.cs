using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// The seed's peak at small scale, against the demo's own configuration: five clients keep asking while the on-prem
/// replica serves two at a time, so the gateway starts the cloud pool's two replicas, routes the overflow to them
/// once they are ready, and gives them back when the load stops. Shorter than the demo: the cloud node "boots" in
/// 1 s instead of 5, and scale-in waits 3 s of calm instead of 20.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class ScalesTheCloudPoolOutAndBackIn
{
    private const int Clients = 5;
    private const string OnPrem = "on-prem";
    private const string Cloud = "cloud-elastic";

    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan MinLoad = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxLoad = TimeSpan.FromSeconds(20);

    // Once both cloud replicas serve, the peak goes on this long so the samples show it at its steady state.
    private static readonly TimeSpan ScaledOutLoad = TimeSpan.FromSeconds(4);

    private static readonly TimeSpan ScaleInDeadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task FiveClientsAgainstOneOnPremReplica_ScaleTheCloudPoolToTwo_ThenBackToZero()
    {
        var clock = Stopwatch.StartNew();
        await using var gateway = await GatewayProcess.StartAsync(
            "--config", GatewayProcess.DemoConfigPath,
            "--Gateway:PublicUrl=http://127.0.0.1:0",
            "--Gateway:AdminUrl=http://127.0.0.1:0",
            $"--Gateway:Services:0:Pools:1:Process:Arguments:{CloudStartupArgumentIndex()}=1",
            "--Gateway:Services:0:Pools:1:Scaling:ScaleInStabilizationSeconds=3");
        using var admin = new HttpClient { BaseAddress = gateway.AdminAddress };
        using var client = new HttpClient { BaseAddress = gateway.PublicAddress, Timeout = TimeSpan.FromSeconds(30) };
        await Eventually.WaitAsync(
            async () => (await admin.GetAsync("readyz")).StatusCode, s => s == HttpStatusCode.OK, ReadyDeadline, "the demo to be ready");
        var before = await PoolsAsync(admin);
        Assert.Equal(0, before[Cloud].Replicas);

        // The peak: five clients, each sending its next request as soon as its last is answered, as hey -c 5 does.
        using var stop = new CancellationTokenSource();
        var statuses = new List<HttpStatusCode>();
        var clients = Enumerable.Range(0, Clients).Select(_ => ClientAsync(client, statuses, stop.Token)).ToArray();
        var samples = new List<PoolSample>();
        var cloudPids = new HashSet<int>();
        var load = Stopwatch.StartNew();
        TimeSpan? scaledOutAt = null;
        while (load.Elapsed < MaxLoad && !(load.Elapsed >= MinLoad && load.Elapsed - scaledOutAt >= ScaledOutLoad))
        {
            var pools = await PoolsAsync(admin);
            samples.Add(new PoolSample(load.Elapsed, pools[OnPrem].FirstInFlight, pools[Cloud].Ready));
            cloudPids.UnionWith(pools[Cloud].Pids);
            if (pools[Cloud].Ready == 2)
            {
                scaledOutAt ??= load.Elapsed;
            }

            await Task.Delay(100);
        }

        await stop.CancelAsync();
        await Task.WhenAll(clients);
        var scaledOut = await MetricsText.ScrapeAsync(admin);
        var onPremAfterPeak = (await PoolsAsync(admin))[OnPrem];

        // Scaled out once on-prem was saturated, to the pool's maximum, and every request was answered.
        Assert.True(scaledOutAt is not null, $"the cloud pool never had 2 ready replicas in {load.Elapsed}; samples: {string.Join(", ", samples)}\n{gateway.Output}");
        Assert.Equal(2, cloudPids.Count);
        Assert.True(ScaleEvents(scaledOut, "out") >= 1, "no scale-out event");
        Assert.NotEmpty(statuses);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));

        // The on-prem replica stays full through the peak (the cloud takes only the overflow) and is never
        // oversubscribed. Sampling can catch it between one answer and the next request, hence "nearly always".
        Assert.All(samples, s => Assert.InRange(s.OnPremInFlight, 0, 2));
        Assert.Equal(2, onPremAfterPeak.FirstPeakInFlight);
        var peak = samples.Where(s => s.At >= TimeSpan.FromSeconds(1)).ToArray();
        var full = peak.Count(s => s.OnPremInFlight == 2);
        Assert.True(full >= 0.8 * peak.Length, $"on-prem was full in {full} of {peak.Length} samples: {string.Join(", ", peak)}");

        // After the load: 3 s of calm, then the replicas leave one at a time, drained, and their processes end.
        await Eventually.WaitAsync(
            async () => (await PoolsAsync(admin))[Cloud].Replicas, n => n == 0, ScaleInDeadline, "the cloud pool back at 0 replicas");
        var scaledIn = await MetricsText.ScrapeAsync(admin);
        Assert.True(ScaleEvents(scaledIn, "in") >= 2, $"{ScaleEvents(scaledIn, "in")} scale-in events, expected one per cloud replica");
        Assert.Equal(0, (await PoolsAsync(admin))[Cloud].Desired);
        foreach (var pid in cloudPids)
        {
            await Eventually.WaitAsync(() => Task.FromResult(IsAlive(pid)), alive => !alive, TimeSpan.FromSeconds(5), $"cloud replica process {pid} to end");
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the scenario took {clock.Elapsed}");
    }

    /// <summary>Where the demo's cloud pool gives <c>--startup-duration</c> its value, so the test can shorten it.</summary>
    private static int CloudStartupArgumentIndex()
    {
        using var demo = JsonDocument.Parse(File.ReadAllText(GatewayProcess.DemoConfigPath));
        var pool = demo.RootElement.GetProperty("Gateway").GetProperty("Services")[0].GetProperty("Pools")[1];
        Assert.Equal(Cloud, pool.GetProperty("Name").GetString());
        var arguments = pool.GetProperty("Process").GetProperty("Arguments").EnumerateArray().Select(a => a.GetString()).ToList();
        return arguments.IndexOf("--startup-duration") + 1 is var index and > 0
            ? index
            : throw new InvalidOperationException("the demo's cloud pool has no --startup-duration");
    }

    private static async Task ClientAsync(HttpClient client, List<HttpStatusCode> statuses, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            using var request = ChatRequest.Post(maxTokens: 10);
            request.Headers.Host = "qwen-chat-default.example.com";

            // Not cancelled by the stop: a request already sent is answered, so every one counts.
            using var response = await client.SendAsync(request, CancellationToken.None);
            await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
            lock (statuses)
            {
                statuses.Add(response.StatusCode);
            }
        }
    }

    private static async Task<Dictionary<string, PoolStatus>> PoolsAsync(HttpClient admin)
    {
        using var status = JsonDocument.Parse(await admin.GetStringAsync("admin/status"));
        var pools = new Dictionary<string, PoolStatus>(StringComparer.Ordinal);
        foreach (var pool in status.RootElement.GetProperty("services")[0].GetProperty("pools").EnumerateArray())
        {
            var replicas = pool.GetProperty("replicas");
            var first = replicas.GetArrayLength() > 0 ? replicas[0] : (JsonElement?)null;
            pools[pool.GetProperty("name").GetString()!] = new PoolStatus(
                replicas.GetArrayLength(),
                pool.GetProperty("readyReplicas").GetInt32(),
                pool.GetProperty("desiredReplicas").GetInt32(),
                first?.GetProperty("inFlight").GetInt32() ?? 0,
                first?.GetProperty("peakInFlight").GetInt32() ?? 0,
                replicas.EnumerateArray().Where(r => r.TryGetProperty("pid", out _)).Select(r => r.GetProperty("pid").GetInt32()).ToArray());
        }

        return pools;
    }

    private static double ScaleEvents(IReadOnlyDictionary<string, double> metrics, string direction) =>
        metrics.Where(m => m.Key.StartsWith("gateway_scale_events_total{", StringComparison.Ordinal)
                && m.Key.Contains($"pool=\"{Cloud}\"", StringComparison.Ordinal)
                && m.Key.Contains($"direction=\"{direction}\"", StringComparison.Ordinal))
            .Sum(m => m.Value);

    // A zombie (exited, not yet reaped) counts as gone: it runs nothing and holds no port.
    private static bool IsAlive(int pid)
    {
        var status = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status";
        try
        {
            return File.Exists(status) && !File.ReadAllText(status).Contains("State:\tZ", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private sealed record PoolStatus(int Replicas, int Ready, int Desired, int FirstInFlight, int FirstPeakInFlight, int[] Pids);

    private sealed record PoolSample(TimeSpan At, int OnPremInFlight, int CloudReady);
}

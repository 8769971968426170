using System.Diagnostics;
using System.Globalization;
using System.Net;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;
using Xunit.Abstractions;

namespace Gateway.IntegrationTests;

/// <summary>
/// A cloud pool scaled by a webhook: its Static addresses are two candidates where nothing runs yet. Five clients
/// saturate the on-prem replica (two slots), so the gateway POSTs for cloud replicas until it has asked for two; the
/// receiver starts simulators at the candidate addresses, they join the pool when their <c>/health</c> answers and
/// serve the overflow. When the load stops and a short stabilisation passes, the gateway drains the newest, POSTs the
/// scale-in naming it, and the receiver stops it; then the other.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class WebhookScalesCloudPoolOutAndIn(ITestOutputHelper output)
{
    private const int Clients = 5;
    private static readonly string[] SimulatorArgs = ["--max-num-seqs", "2", "--time-to-first-token", "100", "--inter-token-latency", "30"];
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task FiveClientsAgainstOneOnPremReplica_WebhookStartsTwoCandidates_ThenStopsEachAfterTheLoad()
    {
        var clock = Stopwatch.StartNew();
        await using var cloud = await CandidateCloud.StartAsync(2, SimulatorArgs);
        await using var gateway = await GatewayFixture.StartAsync([SimulatorArgs], sims =>
        {
            var pool = GatewayFixture.Pool("cloud", 1, 2, [.. cloud.Candidates]);
            pool.Health = new HealthOptions { ProbeIntervalSeconds = 0.2 };
            pool.Scaling = new ScalingOptions
            {
                MaxReplicas = 2,
                ScaleOutWindowSeconds = 0.5,
                ScaleInStabilizationSeconds = 2,
                DrainTimeoutSeconds = 5,
                Webhook = new WebhookScalerOptions { Url = cloud.Url.ToString() },
            };
            return new GatewayOptions { Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 2, sims[0]), pool)] };
        });
        Assert.DoesNotContain((await gateway.StatusAsync()).Replicas.Values, r => r.Pool == "cloud");

        // The peak: each client sends its next request as soon as its last is answered.
        using var client = gateway.CreatePublicClient();
        using var stop = new CancellationTokenSource();
        var statuses = new List<HttpStatusCode>();
        var loadStart = DateTime.UtcNow;
        var clients = Enumerable.Range(0, Clients).Select(_ => ClientAsync(client, statuses, stop.Token)).ToArray();
        Dictionary<string, ReplicaStatus> serving;
        try
        {
            // Both candidates come up, join ready, and take the overflow.
            serving = await Eventually.WaitAsync(
                async () => (await gateway.StatusAsync()).Replicas.Values.Where(r => r.Pool == "cloud").ToDictionary(r => r.Id),
                cloudReplicas => cloudReplicas.Count == 2 && cloudReplicas.Values.All(r => r.State == "ready" && r.Served > 0),
                Deadline,
                "two cloud replicas serving");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(clients);
        }

        var servingAt = DateTime.UtcNow - loadStart;
        var loadEnd = DateTime.UtcNow;

        // Asked for two in one call or in steps: the five clients may not all be waiting by the end of the 0.5 s window
        // on a slow machine, and demand 3 wants one replica where 4 or 5 want two. Whatever the steps, each counts what
        // the last asked for as current (never asking twice for a node still booting), with the exact body, and the
        // last asks for two.
        var scaleOuts = cloud.Calls.TakeWhile(c => c.Replica is null).ToList();
        Assert.NotEmpty(scaleOuts);
        var asked = 0;
        foreach (var scaleOut in scaleOuts)
        {
            var demand = int.Parse(scaleOut.Body.GetProperty("reason").GetString()!["demand ".Length..], CultureInfo.InvariantCulture);
            Assert.InRange(demand, 3, Clients);
            Assert.True(scaleOut.Desired > asked, string.Join("\n", scaleOuts));
            Assert.Equal(
                $$"""{"service":"qwen-chat","namespace":"default","pool":"cloud","desiredReplicas":{{scaleOut.Desired}},"currentReplicas":{{asked}},"reason":"demand {{demand}}"}""",
                scaleOut.Body.GetRawText());
            asked = scaleOut.Desired;
        }

        Assert.Equal(2, asked);
        Assert.Equal(2, cloud.Running);
        Assert.NotEmpty(statuses);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));

        // After the load: 2 s of calm, then the newest replica is drained and named in a scale-in, then the other.
        // One replica at a time is the point of the scale-in, so its calls are counted exactly.
        var scaleIns = await Eventually.WaitAsync(
            () => Task.FromResult(cloud.Calls.Skip(scaleOuts.Count).ToList()), c => c.Count >= 2, Deadline, "two scale-in calls");
        await Eventually.WaitAsync(
            async () => (await gateway.StatusAsync()).Replicas.Values.Count(r => r.Pool == "cloud"), n => n == 0, Deadline, "the cloud pool back at 0");
        var addresses = serving.Values.OrderBy(r => r.Id, StringComparer.Ordinal).Select(r => r.Address).ToArray();
        Assert.Equal(scaleOuts.Count + 2, cloud.Calls.Count);
        Assert.Equal((1, 2, addresses[1]), (scaleIns[0].Desired, scaleIns[0].Current, scaleIns[0].Replica));
        Assert.Equal((0, 1, addresses[0]), (scaleIns[1].Desired, scaleIns[1].Current, scaleIns[1].Replica));
        Assert.Equal(addresses.Reverse().Select(a => new Uri(a + "/")), cloud.Stopped);
        Assert.Equal(0, cloud.Running);
        output.WriteLine(
            $"{scaleOuts.Count} scale-out POST(s), the first {(scaleOuts[0].At - loadStart).TotalSeconds:0.00} s after the load began, " +
            $"both serving by {servingAt.TotalSeconds:0.00} s; " +
            $"scale-in POSTs {(scaleIns[0].At - loadEnd).TotalSeconds:0.00} s and {(scaleIns[1].At - loadEnd).TotalSeconds:0.00} s after it ended; " +
            $"{statuses.Count} answers, all 200");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), $"the scenario took {clock.Elapsed}");
    }

    private static async Task ClientAsync(HttpClient client, List<HttpStatusCode> statuses, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            using var request = ChatRequest.Post(maxTokens: 10);

            // Not cancelled by the stop: a request already sent is answered, so every one counts.
            using var response = await client.SendAsync(request, CancellationToken.None);
            await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
            lock (statuses)
            {
                statuses.Add(response.StatusCode);
            }
        }
    }
}

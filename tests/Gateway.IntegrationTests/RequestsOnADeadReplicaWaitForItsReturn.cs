using System.Net;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;
using Xunit.Abstractions;

namespace Gateway.IntegrationTests;

/// <summary>
/// The only replica of a service dies under load and comes back at its address a few seconds later. Plain requests
/// that failed on it before their first byte, and those that arrive meanwhile, wait in the queue within their
/// deadline and are answered once it is back: none gets a 502 because no other replica was free at that instant.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class RequestsOnADeadReplicaWaitForItsReturn(ITestOutputHelper output)
{
    // 50 ms a token: a 10-token answer takes about half a second, so requests are mid-answer when the replica dies.
    private static readonly string[] Replica = ["--inter-token-latency", "50", "--max-num-seqs", "8"];

    [Fact]
    public async Task OnlyReplicaKilledAndRestarted_EveryPlainRequestIsAnswered()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            [Replica],
            sims =>
            {
                var onPrem = GatewayFixture.Pool("on-prem", 0, 4, sims[0]);
                onPrem.Health = new HealthOptions { ProbeIntervalSeconds = 0.5, ProbeTimeoutSeconds = 1, UnhealthyAfterFailures = 2, MaxBackoffSeconds = 1 };
                var service = GatewayFixture.QwenChat(onPrem);
                service.Queue = new QueueOptions { MaxWaiting = 100, MaxWaitSeconds = 30 };
                return new GatewayOptions { Services = [service] };
            });
        var port = gateway.Simulators[0].BaseAddress.Port;
        using var stop = new CancellationTokenSource();
        var clients = new Task<List<HttpStatusCode>>[6];
        for (var c = 0; c < clients.Length; c++)
        {
            clients[c] = Task.Run(() => LoopAsync(gateway, stop.Token));
        }

        await Eventually.WaitAsync(gateway.StatusAsync, s => s["on-prem-1"].InFlight == 4, TimeSpan.FromSeconds(20), "on-prem full");
        await gateway.Simulators[0].KillAsync();
        await Eventually.WaitAsync(gateway.StatusAsync, s => !s["on-prem-1"].Healthy, TimeSpan.FromSeconds(10), "on-prem taken out");

        // Down for a while: requests queue (the ones it failed among them) instead of failing.
        await Eventually.WaitAsync(gateway.StatusAsync, s => s.QueueDepth >= 4, TimeSpan.FromSeconds(10), "requests waiting for a replica");
        await using var restarted = await SimulatorProcess.StartOnPortAsync(port, Replica);
        var back = await Eventually.WaitAsync(gateway.StatusAsync, s => s["on-prem-1"].Healthy, TimeSpan.FromSeconds(15), "on-prem back");
        await Eventually.WaitAsync(
            gateway.StatusAsync, s => s["on-prem-1"].Served >= back["on-prem-1"].Served + 12, TimeSpan.FromSeconds(20), "on-prem serving again");

        await stop.CancelAsync();
        var statuses = (await Task.WhenAll(clients)).SelectMany(s => s).ToList();
        var retried = MetricsText.Parse(await gateway.Admin.GetStringAsync("metrics"))
            .Where(sample => sample.Key.StartsWith("gateway_retries_total{", StringComparison.Ordinal) && sample.Key.Contains("reason=\"connection_failed\"", StringComparison.Ordinal))
            .Sum(sample => sample.Value);
        output.WriteLine($"{statuses.Count} plain requests: {string.Join(", ", statuses.GroupBy(s => s).Select(g => $"{(int)g.Key} x{g.Count()}"))}; placed again after a connection failure: {retried}");

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.True(retried >= 1, "no request failed on the dead replica, so nothing was placed again");
        Assert.Equal(0, (await gateway.StatusAsync())["on-prem-1"].InFlight);
    }

    private static async Task<List<HttpStatusCode>> LoopAsync(GatewayFixture gateway, CancellationToken stop)
    {
        var statuses = new List<HttpStatusCode>();
        using var http = gateway.CreatePublicClient();
        while (!stop.IsCancellationRequested)
        {
            // Not cancelled by the stop: a request under way finishes and counts.
            using var response = await http.SendAsync(ChatRequest.Post(maxTokens: 10), CancellationToken.None);
            statuses.Add(response.StatusCode);
        }

        return statuses;
    }
}

using System.Net;
using System.Text.Json;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// 200 requests at once against two replicas of capacity 4: the gateway queues what does not fit instead of
/// piling it onto a replica, so every request succeeds and no replica ever runs or queues more than it should.
/// </summary>
public sealed class NeverOversubscribesAReplica
{
    private const int Requests = 200;
    private const int MaxTokens = 10;

    [Fact]
    public async Task TwoHundredConcurrentRequests_AllSucceed_AndNoReplicaRunsMoreThanFour()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            [
                ["--max-num-seqs", "4", "--inter-token-latency", "5"],
                ["--max-num-seqs", "4", "--inter-token-latency", "5"],
            ],
            sims =>
            {
                var service = GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, sims[0], sims[1]));
                service.Queue.MaxWaiting = Requests;
                return new() { Services = [service] };
            });
        using var http = gateway.CreatePublicClient();
        using var stopSampling = new CancellationTokenSource();
        var sampling = SampleAsync(gateway, stopSampling.Token);

        var responses = await Task.WhenAll(Enumerable.Range(0, Requests).Select(async _ =>
        {
            using var response = await http.SendAsync(ChatRequest.Post(MaxTokens));
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));
        await stopSampling.CancelAsync();
        var sampled = await sampling;

        Assert.All(responses, r =>
        {
            Assert.True(r.StatusCode == HttpStatusCode.OK, r.Body);
            using var body = JsonDocument.Parse(r.Body);
            Assert.Equal(MaxTokens, body.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        });

        // Seen from outside while the load ran: the simulators' own gauges and the gateway's counters.
        Assert.True(sampled.Samples >= 3, $"only {sampled.Samples} samples were taken under load");
        Assert.InRange(sampled.MaxRunning, 1, 4);
        Assert.Equal(0, sampled.MaxWaiting);
        Assert.InRange(sampled.MaxInFlight, 1, 4);

        var status = await gateway.StatusAsync();
        Assert.Equal(0, status.QueueDepth);
        Assert.Equal(Requests, status["on-prem-1"].Served + status["on-prem-2"].Served);
        for (var i = 0; i < 2; i++)
        {
            var replica = status[$"on-prem-{i + 1}"];
            Assert.Equal((4, 0), (replica.PeakInFlight, replica.InFlight));
            Assert.Equal(replica.Served, await GatewayFixture.SampleAsync(
                gateway.Simulators[i], "vllm:request_success_total{model_name=\"qwen\",finished_reason=\"length\"}"));
            Assert.Equal((0, 0), await GatewayFixture.LoadAsync(gateway.Simulators[i]));
        }
    }

    private static async Task<LoadSamples> SampleAsync(GatewayFixture gateway, CancellationToken stop)
    {
        var clients = gateway.Simulators.Select(s => s.CreateHttpClient()).ToArray();
        var result = new LoadSamples();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var client in clients)
                {
                    var (running, waiting) = await MetricsText.QueueAsync(client);
                    result.MaxRunning = Math.Max(result.MaxRunning, running);
                    result.MaxWaiting = Math.Max(result.MaxWaiting, waiting);
                }

                foreach (var replica in (await gateway.StatusAsync()).Replicas.Values)
                {
                    result.MaxInFlight = Math.Max(result.MaxInFlight, replica.InFlight);
                }

                result.Samples++;
            }
        }
        finally
        {
            Array.ForEach(clients, c => c.Dispose());
        }

        return result;
    }

    private sealed class LoadSamples
    {
        public int Samples { get; set; }

        public double MaxRunning { get; set; }

        public double MaxWaiting { get; set; }

        public int MaxInFlight { get; set; }
    }
}

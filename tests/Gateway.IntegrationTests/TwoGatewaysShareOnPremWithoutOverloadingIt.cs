using System.Net;
using System.Text.Json;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// Two gateway processes (two replicas of the gateway, as an operator runs them) in front of the same on-prem
/// replica of capacity 4 and the same cloud replica. Each gateway's own count says nothing of the other's
/// requests; vLLM's <c>/metrics</c> does, so the second gateway sends its requests to the cloud once the first has
/// filled on-prem, instead of queueing them on the on-prem GPU.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class TwoGatewaysShareOnPremWithoutOverloadingIt : IAsyncLifetime
{
    // 500 tokens at 20 ms: each request holds its sequence for about ten seconds, long enough for the second wave to
    // arrive while the first still runs, even on a loaded machine.
    private const int MaxTokens = 500;
    private const string Simulator = "--max-num-seqs 4 --inter-token-latency 20";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly string _configPath = Path.Combine(Path.GetTempPath(), $"gateway-two-{Guid.NewGuid():N}.json");
    private SimulatorProcess _onPrem = null!;
    private SimulatorProcess _cloud = null!;
    private GatewayProcess? _first;
    private GatewayProcess? _second;

    public async Task InitializeAsync()
    {
        var simulators = await Task.WhenAll(SimulatorProcess.StartAsync(Simulator.Split(' ')), SimulatorProcess.StartAsync(Simulator.Split(' ')));
        (_onPrem, _cloud) = (simulators[0], simulators[1]);

        // One file for both, as two replicas of a gateway Deployment share their configuration; default load settings.
        await File.WriteAllTextAsync(_configPath, $$"""
            {
              "Logging": { "LogLevel": { "Default": "Warning" } },
              "Gateway": {
                "PublicUrl": "http://127.0.0.1:0",
                "AdminUrl": "http://127.0.0.1:0",
                "Services": [
                  {
                    "Name": "qwen-chat",
                    "Namespace": "default",
                    "Models": [ "{{GatewayFixture.Model}}" ],
                    "Pools": [
                      { "Name": "on-prem", "Priority": 0, "CapacityPerReplica": 4, "Static": [ "{{Root(_onPrem)}}" ] },
                      { "Name": "cloud", "Priority": 1, "CapacityPerReplica": 4, "Static": [ "{{Root(_cloud)}}" ] }
                    ]
                  }
                ]
              }
            }
            """);
        var gateways = await Task.WhenAll(GatewayProcess.StartAsync("--config", _configPath), GatewayProcess.StartAsync("--config", _configPath));
        (_first, _second) = (gateways[0], gateways[1]);
    }

    public async Task DisposeAsync()
    {
        foreach (var gateway in new[] { _first, _second })
        {
            if (gateway is not null)
            {
                await gateway.DisposeAsync();
            }
        }

        await _onPrem.DisposeAsync();
        await _cloud.DisposeAsync();
        File.Delete(_configPath);
    }

    [Fact]
    public async Task EightLongRequestsSplitAcrossTwoGateways_OnPremRunsFour_TheRestGoToTheCloud_AllSucceed()
    {
        using var first = PublicClient(_first!);
        using var second = PublicClient(_second!);
        using var stopSampling = new CancellationTokenSource();
        var sampling = SampleOnPremAsync(stopSampling.Token);

        // First wave: four through the first gateway, which fill on-prem.
        var firstWave = Enumerable.Range(0, 4).Select(_ => CompleteAsync(first)).ToArray();
        await Eventually.WaitAsync(() => GatewayFixture.LoadAsync(_onPrem), load => load.Running == 4, Deadline, "on-prem to run the first wave");

        // Second wave, once the second gateway's scrape has shown it the first one's four (about one interval later).
        var seen = await Eventually.WaitAsync(
            () => StatusAsync(_second!), s => s["on-prem-1"].Load?.OthersInFlight == 4, Deadline, "the second gateway to see on-prem full");
        Assert.Equal(new ReplicaLoadStatus(Running: 4, Waiting: 0, OthersInFlight: 4, Saturated: false), seen["on-prem-1"].Load);
        var secondWave = Enumerable.Range(0, 4).Select(_ => CompleteAsync(second)).ToArray();

        var answers = await Task.WhenAll(firstWave.Concat(secondWave));
        await stopSampling.CancelAsync();
        var sampled = await sampling;

        Assert.All(answers, answer =>
        {
            Assert.True(answer.Status == HttpStatusCode.OK, answer.Body);
            using var body = JsonDocument.Parse(answer.Body);
            Assert.Equal(MaxTokens, body.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        });

        // On-prem, by its own gauges all along: full, never more, nothing queued on the GPU.
        Assert.True(sampled.Samples >= 10, $"only {sampled.Samples} samples of on-prem's metrics");
        Assert.Equal(4, sampled.MaxRunning);
        Assert.Equal(0, sampled.MaxWaiting);

        // Who went where: the first gateway's four on-prem, the second's four in the cloud.
        var firstStatus = await StatusAsync(_first!);
        var secondStatus = await StatusAsync(_second!);
        Assert.Equal((4L, 0L), (firstStatus["on-prem-1"].Served, firstStatus["cloud-1"].Served));
        Assert.Equal((0L, 4L), (secondStatus["on-prem-1"].Served, secondStatus["cloud-1"].Served));
        Assert.Equal(4, await GatewayFixture.SampleAsync(_onPrem, "vllm:request_success_total{model_name=\"qwen\",finished_reason=\"length\"}"));
        Assert.Equal(4, await GatewayFixture.SampleAsync(_cloud, "vllm:request_success_total{model_name=\"qwen\",finished_reason=\"length\"}"));
    }

    private static string Root(SimulatorProcess simulator) => simulator.BaseAddress.ToString().TrimEnd('/');

    private static HttpClient PublicClient(GatewayProcess gateway)
    {
        var client = new HttpClient { BaseAddress = gateway.PublicAddress, Timeout = TimeSpan.FromSeconds(90) };
        client.DefaultRequestHeaders.Host = GatewayFixture.ServiceHost;
        return client;
    }

    private static async Task<(HttpStatusCode Status, string Body)> CompleteAsync(HttpClient client)
    {
        using var response = await client.SendAsync(ChatRequest.Post(MaxTokens));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<GatewayStatus> StatusAsync(GatewayProcess gateway)
    {
        using var admin = new HttpClient { BaseAddress = gateway.AdminAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var document = JsonDocument.Parse(await admin.GetStringAsync("admin/status"));
        return GatewayStatus.Read(document.RootElement);
    }

    /// <summary>On-prem's own running and waiting gauges, read back to back until stopped.</summary>
    private async Task<(int Samples, double MaxRunning, double MaxWaiting)> SampleOnPremAsync(CancellationToken stop)
    {
        using var client = _onPrem.CreateHttpClient();
        var (samples, maxRunning, maxWaiting) = (0, 0.0, 0.0);
        while (!stop.IsCancellationRequested)
        {
            var (running, waiting) = await MetricsText.QueueAsync(client);
            (maxRunning, maxWaiting) = (Math.Max(maxRunning, running), Math.Max(maxWaiting, waiting));
            samples++;
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return (samples, maxRunning, maxWaiting);
    }
}

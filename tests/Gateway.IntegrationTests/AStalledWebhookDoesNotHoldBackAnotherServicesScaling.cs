using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// Each service is scaled by its own loop: while one service's webhook receiver holds a call open (it accepted the
/// connection and says nothing), another service still scales out within its window.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class AStalledWebhookDoesNotHoldBackAnotherServicesScaling
{
    private static readonly string[] SimulatorArgs = ["--max-num-seqs", "2", "--time-to-first-token", "100", "--inter-token-latency", "30"];

    [Fact]
    public async Task FirstServicesReceiverStalls_SecondServiceIsStillScaledOut()
    {
        await using var stalled = await WebhookReceiver.StartAsync(async (_, _, aborted) =>
        {
            await Task.Delay(Timeout.Infinite, aborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return 200;
        });
        await using var cloud = await CandidateCloud.StartAsync(1, SimulatorArgs);
        await using var gateway = await GatewayFixture.StartAsync([SimulatorArgs], sims =>
        {
            // First in the configuration: its minimum of one is asked for at once, and the call never ends by itself.
            var stalledPool = GatewayFixture.Pool("cloud", 1, 2, ClosedPort.Address());
            stalledPool.Scaling = new ScalingOptions
            {
                MinReplicas = 1,
                ScaleOutWindowSeconds = 0,
                Webhook = new WebhookScalerOptions { Url = stalled.Url.ToString(), TimeoutSeconds = 60, MaxRetries = 0 },
            };
            var stalledService = new ServiceOptions { Name = "stalled", Namespace = "default", Models = ["other"], Pools = [stalledPool] };

            var cloudPool = GatewayFixture.Pool("cloud", 1, 2, [.. cloud.Candidates]);
            cloudPool.Health = new HealthOptions { ProbeIntervalSeconds = 0.2 };
            cloudPool.Scaling = new ScalingOptions { MaxReplicas = 1, ScaleOutWindowSeconds = 0.5, Webhook = new WebhookScalerOptions { Url = cloud.Url.ToString() } };
            return new GatewayOptions
            {
                Services = [stalledService, GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 2, sims[0]), cloudPool)],
            };
        });
        await Eventually.WaitAsync(() => Task.FromResult(stalled.Calls.Count), n => n == 1, TimeSpan.FromSeconds(5), "the stalled receiver's call");

        // Three long requests against on-prem's two slots: qwen-chat wants its cloud replica.
        using var client = gateway.CreatePublicClient();
        var requests = Enumerable.Range(0, 3).Select(async _ =>
        {
            using var request = ChatRequest.Post(maxTokens: 100);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }).ToArray();

        var calls = await Eventually.WaitAsync(() => Task.FromResult(cloud.Calls), c => c.Count >= 1, TimeSpan.FromSeconds(5), "qwen-chat's scale-out");
        Assert.Equal(("qwen-chat", 1), (calls[0].Service, calls[0].Desired));
        Assert.Single(stalled.Calls);
        Assert.All(await Task.WhenAll(requests), s => Assert.Equal(System.Net.HttpStatusCode.OK, s));
    }
}

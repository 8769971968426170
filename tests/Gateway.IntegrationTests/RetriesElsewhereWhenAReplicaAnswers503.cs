using System.Net;
using System.Text;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;
using OpenAI.Chat;

namespace Gateway.IntegrationTests;

/// <summary>
/// An on-prem replica that answers every request 503 (overloaded) before any byte of an answer: the gateway keeps
/// that answer from the client and places the request on the cloud replica, so the application sees only
/// successes; the failures take the on-prem replica out of placement.
/// </summary>
public sealed class RetriesElsewhereWhenAReplicaAnswers503
{
    private const string Finished = "vllm:request_success_total{model_name=\"qwen\",finished_reason=\"length\"}";

    private static readonly string[] Overloaded = ["--failure-injection-rate", "100", "--failure-types", "unavailable"];

    /// <summary>On-prem (sims[0]) answers 503 to every request while its /health says 200; cloud (sims[1]) is healthy.</summary>
    private static Task<GatewayFixture> StartAsync() =>
        GatewayFixture.StartAsync(
            [Overloaded, ["--inter-token-latency", "5"]],
            sims =>
            {
                var onPrem = GatewayFixture.Pool("on-prem", 0, 4, sims[0]);

                // Once out, the on-prem replica stays out for the whole test: its /health answers 200, so a probe would let it back.
                onPrem.Health = new HealthOptions { ProbeIntervalSeconds = 60, ProbeTimeoutSeconds = 5, MaxBackoffSeconds = 60 };
                return new GatewayOptions { Services = [GatewayFixture.QwenChat(onPrem, GatewayFixture.Pool("cloud", 1, 4, sims[1]))] };
            });

    [Fact]
    public async Task OverloadedOnPremReplica_RequestsSucceedOnTheCloudReplica_AndOnPremIsTakenOut()
    {
        await using var gateway = await StartAsync();
        using var http = gateway.CreatePublicClient();

        for (var i = 0; i < 6; i++)
        {
            using var response = await http.SendAsync(ChatRequest.Post(maxTokens: 3));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"request {i}: {(int)response.StatusCode} {body}");
            Assert.Contains("\"finish_reason\":\"length\"", body, StringComparison.Ordinal);
        }

        var status = await gateway.StatusAsync();
        Assert.Equal(6L, status["cloud-1"].Served);
        Assert.Equal(6, await GatewayFixture.SampleAsync(gateway.Simulators[1], Finished));

        // Two 503s in a row take on-prem out; a third try happens only if the start-up probe's 200 landed between them.
        Assert.InRange(status["on-prem-1"].Served, 2L, 3L);
        Assert.False(status["on-prem-1"].Healthy);
        Assert.True(status["cloud-1"].Healthy);
        Assert.Equal((0, 0), (status["on-prem-1"].InFlight, status["cloud-1"].InFlight));
    }

    [Fact]
    public async Task OverloadedOnPremReplica_StreamedRequestThroughTheSdkSucceeds()
    {
        await using var gateway = await StartAsync();
        using var http = gateway.CreatePublicClient();
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;

        await foreach (var update in gateway.CreateChatClient(http).CompleteChatStreamingAsync(
            [new UserChatMessage("Hi")], new ChatCompletionOptions { MaxOutputTokenCount = 3 }))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
        }

        Assert.Equal(3, text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(3, usage?.OutputTokenCount);
        var status = await gateway.StatusAsync();
        Assert.Equal((1L, 1L), (status["on-prem-1"].Served, status["cloud-1"].Served));
    }

    [Fact]
    public async Task OnlyOverloadedReplicas_Answers503InOpenAIShapeWithRetryAfter()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            [Overloaded, Overloaded],
            sims => new() { Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, sims[0], sims[1]))] });
        using var http = gateway.CreatePublicClient();

        using var response = await http.SendAsync(ChatRequest.Post(maxTokens: 3));

        var message = await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.ServiceUnavailable, "server_error", "upstream_overloaded");
        Assert.Matches("^Replica on-prem-[12] is overloaded and no other replica was free; retry later.$", message);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);

        // Both replicas were tried once (Forwarding.MaxAttempts defaults to 2) and both slots were given back.
        var status = await gateway.StatusAsync();
        Assert.Equal((1L, 1L), (status["on-prem-1"].Served, status["on-prem-2"].Served));
        Assert.Equal((0, 0), (status["on-prem-1"].InFlight, status["on-prem-2"].InFlight));
    }

    [Fact]
    public async Task OnlyReplicaOverloaded_RequeuedRequestTimesOut_AndIsCountedAsAQueueTimeout()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            [Overloaded],
            sims =>
            {
                var onPrem = GatewayFixture.Pool("on-prem", 0, 4, sims[0]);
                onPrem.Health = new HealthOptions { ProbeIntervalSeconds = 60, ProbeTimeoutSeconds = 5, MaxBackoffSeconds = 60 };
                var service = GatewayFixture.QwenChat(onPrem);
                service.Queue.MaxWaitSeconds = 1;
                return new() { Forwarding = new ForwardingOptions { MaxAttempts = 5 }, Services = [service] };
            });
        using var http = gateway.CreatePublicClient();

        // The 503 sends it back to the queue, where it waits for the replica to recover, which no probe says within the second.
        using var response = await http.SendAsync(ChatRequest.Post(maxTokens: 3));

        await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.ServiceUnavailable, "server_error", "queue_timeout");
        var metrics = MetricsText.Parse(await gateway.Admin.GetStringAsync("metrics"));
        Assert.Equal(1, metrics["gateway_rejected_total{service=\"qwen-chat\",reason=\"queue_timeout\"}"]);
        Assert.Equal(1, metrics["gateway_requests_total{service=\"qwen-chat\",pool=\"on-prem\",code=\"503\"}"]);
    }

    [Fact]
    public async Task OnlyReplicaAnswers503UntilItRecovers_RequestWaitsPastMaxAttempts_AndSucceeds()
    {
        // The chaos drill's 503 phase with no other replica: the probe's 200 lets the sick replica back before it is well,
        // and its second 503 must not use up Forwarding:MaxAttempts (2) while the queue deadline has time left.
        await using var gateway = await GatewayFixture.StartAsync(
            [["--failure-control"]],
            sims =>
            {
                var onPrem = GatewayFixture.Pool("on-prem", 0, 4, sims[0]);
                onPrem.Health = new HealthOptions { ProbeIntervalSeconds = 0.2, ProbeTimeoutSeconds = 1, MaxBackoffSeconds = 0.4 };
                var service = GatewayFixture.QwenChat(onPrem);
                service.Queue.MaxWaitSeconds = 20;
                return new() { Services = [service] };
            });
        using var http = gateway.CreatePublicClient();
        using var control = gateway.Simulators[0].CreateHttpClient();
        using (var sick = await control.PutAsync("simulator/failure-injection", Json("""{"rate":100,"types":["unavailable"]}""")))
        {
            sick.EnsureSuccessStatusCode();
        }

        var request = http.SendAsync(ChatRequest.Post(maxTokens: 3));
        await Eventually.WaitAsync(async () => (await gateway.StatusAsync())["on-prem-1"].Served, served => served >= 3,
            TimeSpan.FromSeconds(15), "the request placed on the sick replica a third time");
        using (var well = await control.PutAsync("simulator/failure-injection", Json("""{"rate":0}""")))
        {
            well.EnsureSuccessStatusCode();
        }

        using var response = await request;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {body}");
        var metrics = MetricsText.Parse(await gateway.Admin.GetStringAsync("metrics"));
        Assert.True(metrics["gateway_retries_total{service=\"qwen-chat\",pool=\"on-prem\",reason=\"overloaded\"}"] >= 2, body);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}

using System.Net;
using System.Text;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;
using OpenAI.Chat;

namespace Gateway.IntegrationTests;

/// <summary>
/// An on-prem replica that refuses connections (its server is down) never had the request, so the gateway
/// places it on another replica before anything reaches the client; the application sees only successes.
/// </summary>
public sealed class RetriesOnAnotherReplicaWhenOneRefuses
{
    private static Task<GatewayFixture> StartAsync() =>
        GatewayFixture.StartAsync(
            [["--inter-token-latency", "5"]],
            sims => new()
            {
                Services =
                [
                    GatewayFixture.QwenChat(
                        GatewayFixture.Pool("on-prem", 0, 4, ClosedPort.Address()),
                        GatewayFixture.Pool("cloud", 1, 4, sims[0])),
                ],
            });

    [Fact]
    public async Task RefusingOnPremReplica_RequestsSucceedOnTheCloudReplica()
    {
        await using var gateway = await StartAsync();
        using var http = gateway.CreatePublicClient();

        for (var i = 0; i < 5; i++)
        {
            using var response = await http.SendAsync(ChatRequest.Post(maxTokens: 3));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Four at once: each is tried on-prem first (4 slots), refused, and placed on the cloud's 4 slots.
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => http.SendAsync(ChatRequest.Post(maxTokens: 3))));
        Assert.All(concurrent, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Array.ForEach(concurrent, r => r.Dispose());

        var status = await gateway.StatusAsync();
        Assert.Equal(9L, status["cloud-1"].Served);
        Assert.Equal((0, 0), (status["on-prem-1"].InFlight, status["cloud-1"].InFlight));
        Assert.Equal(9, await GatewayFixture.SampleAsync(gateway.Simulators[0], "vllm:request_success_total{model_name=\"qwen\",finished_reason=\"length\"}"));
    }

    [Fact]
    public async Task RefusingOnPremReplica_StreamedRequestThroughTheSdkSucceeds()
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
        Assert.Equal(1L, (await gateway.StatusAsync())["cloud-1"].Served);
    }

    [Fact]
    public async Task OnlyRefusingReplicas_Answers502InOpenAIShape()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            [],
            _ => new() { Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, ClosedPort.Address(), ClosedPort.Address()))] });
        using var http = gateway.CreatePublicClient();

        using var response = await http.SendAsync(ChatRequest.Post(maxTokens: 3));

        await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.BadGateway, "server_error", "upstream_unavailable");
        var status = await gateway.StatusAsync();

        // Both replicas were tried once (Forwarding.MaxAttempts defaults to 2) and both slots were given back.
        Assert.Equal((1L, 1L), (status["on-prem-1"].Served, status["on-prem-2"].Served));
        Assert.Equal((0, 0), (status["on-prem-1"].InFlight, status["on-prem-2"].InFlight));
    }
}

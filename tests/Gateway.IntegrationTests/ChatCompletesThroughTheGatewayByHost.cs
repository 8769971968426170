using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.IntegrationTests.Support;
using OpenAI.Chat;

namespace Gateway.IntegrationTests;

/// <summary>An application using the official OpenAI SDK reaches the model through the gateway by its Host header, plain and streamed.</summary>
public sealed class ChatCompletesThroughTheGatewayByHost : IAsyncLifetime
{
    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await GatewayFixture.StartAsync(
            [["--served-model-name", "qwen", "qwen-alias", "--inter-token-latency", "1"]],
            sims => new() { Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, sims[0]))] });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task CompleteChat_ByHost_ReturnsTheReplicasContentAndUsage()
    {
        using var http = _gateway.CreatePublicClient();

        ChatCompletion completion = await _gateway.CreateChatClient(http).CompleteChatAsync(
            [new UserChatMessage("Hello there, how are you?")],
            new ChatCompletionOptions { MaxOutputTokenCount = 5 });

        Assert.Equal("qwen", completion.Model);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(5, completion.Content[0].Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(14, completion.Usage.InputTokenCount);
        Assert.Equal(5, completion.Usage.OutputTokenCount);
        Assert.Equal(19, completion.Usage.TotalTokenCount);

        var replica = (await _gateway.StatusAsync())["on-prem-1"];
        Assert.Equal((1L, 0), (replica.Served, replica.InFlight));
    }

    [Fact]
    public async Task CompleteChatStreaming_ByHost_PassesEveryDeltaAndTheUsage()
    {
        using var http = _gateway.CreatePublicClient();
        var text = new StringBuilder();
        var updates = 0;
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;

        await foreach (var update in _gateway.CreateChatClient(http).CompleteChatStreamingAsync(
            [new UserChatMessage("Hi")],
            new ChatCompletionOptions { MaxOutputTokenCount = 4 }))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.Equal(4, text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(ChatFinishReason.Length, finish);
        Assert.NotNull(usage);
        Assert.Equal(8, usage.InputTokenCount);
        Assert.Equal(4, usage.OutputTokenCount);
        Assert.Equal(12, usage.TotalTokenCount);

        // role chunk, four token chunks, usage chunk: the gateway neither drops nor merges events.
        Assert.Equal(6, updates);
        var replica = (await _gateway.StatusAsync())["on-prem-1"];
        Assert.Equal((1L, 0), (replica.Served, replica.InFlight));
    }

    [Fact]
    public async Task Host_WithPortAndOtherCase_PicksTheServiceWhateverTheModel()
    {
        // The service lists only "qwen": a model name it does not list still goes where the Host says.
        using var http = _gateway.CreatePublicClient("QWEN-Chat-Default.Example.com:8080");

        using var response = await http.SendAsync(ChatRequest.Post(maxTokens: 2, model: "qwen-alias"));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("qwen-alias", body.RootElement.GetProperty("model").GetString());
        Assert.Equal(2, body.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(1L, (await _gateway.StatusAsync())["on-prem-1"].Served);
    }
}

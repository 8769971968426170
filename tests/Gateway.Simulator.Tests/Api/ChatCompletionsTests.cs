using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.Testing;
using OpenAI;
using OpenAI.Chat;

namespace Gateway.Simulator.Tests.Api;

/// <summary>The simulator answers the official OpenAI .NET SDK as vLLM would, plain and streamed.</summary>
public sealed class ChatCompletionsTests : IAsyncLifetime
{
    private SimulatorProcess _simulator = null!;

    public async Task InitializeAsync() =>
        _simulator = await SimulatorProcess.StartAsync("--served-model-name", "qwen", "qwen-alias", "--inter-token-latency", "1");

    public async Task DisposeAsync() => await _simulator.DisposeAsync();

    private ChatClient Client(string model = "qwen") =>
        new(model, new ApiKeyCredential("not-checked"), new OpenAIClientOptions { Endpoint = _simulator.OpenAIEndpoint });

    [Fact]
    public async Task CompleteChat_Plain_ReturnsContentAndUsage()
    {
        ChatCompletion completion = await Client().CompleteChatAsync(
            [new UserChatMessage("Hello there, how are you?")],
            new ChatCompletionOptions { MaxOutputTokenCount = 5 });

        Assert.Equal("qwen", completion.Model);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(5, completion.Content[0].Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        // 3 answer-priming tokens + 4 per message + 7 word and punctuation tokens.
        Assert.Equal(14, completion.Usage.InputTokenCount);
        Assert.Equal(5, completion.Usage.OutputTokenCount);
        Assert.Equal(19, completion.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task CompleteChatStreaming_ReturnsDeltasAndUsage()
    {
        var text = new StringBuilder();
        var updates = 0;
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Client().CompleteChatStreamingAsync(
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
        // role chunk, four token chunks, usage chunk
        Assert.Equal(6, updates);
    }

    [Fact]
    public async Task CompleteChat_SecondServedName_IsAccepted()
    {
        ChatCompletion completion = await Client("qwen-alias").CompleteChatAsync(
            [new UserChatMessage("Hi")], new ChatCompletionOptions { MaxOutputTokenCount = 1 });

        Assert.Equal("qwen-alias", completion.Model);
        Assert.Equal(1, completion.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task Stream_Raw_HasVllmFraming()
    {
        using var http = _simulator.CreateHttpClient();
        using var content = new StringContent(
            """{"model":"qwen","messages":[{"role":"user","content":"Hi"}],"max_tokens":2,"stream":true}""", Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("v1/chat/completions", content);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e, StringComparison.Ordinal));
        Assert.Equal(4, events.Length);
        Assert.Equal("data: [DONE]", events[^1]);

        using var first = JsonDocument.Parse(events[0]["data: ".Length..]);
        var firstChoice = first.RootElement.GetProperty("choices")[0];
        Assert.Equal("chat.completion.chunk", first.RootElement.GetProperty("object").GetString());
        Assert.Equal("assistant", firstChoice.GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, firstChoice.GetProperty("finish_reason").ValueKind);

        using var last = JsonDocument.Parse(events[2]["data: ".Length..]);
        Assert.Equal("length", last.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.False(last.RootElement.TryGetProperty("usage", out _), "no usage chunk unless stream_options.include_usage");
    }

    [Fact]
    public async Task Completions_PlainAndStreamed_AnswerLikeVllm()
    {
        using var http = _simulator.CreateHttpClient();
        using var plainBody = new StringContent("""{"model":"qwen","prompt":"Say hi","max_tokens":3}""", Encoding.UTF8, "application/json");
        using var plain = await http.PostAsync("v1/completions", plainBody);
        using var document = JsonDocument.Parse(await plain.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal("text_completion", document.RootElement.GetProperty("object").GetString());
        Assert.Equal(3, document.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(2, document.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(3, document.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        using var streamBody = new StringContent(
            """{"model":"qwen","prompt":"Say hi","max_tokens":3,"stream":true,"stream_options":{"include_usage":true}}""", Encoding.UTF8, "application/json");
        using var streamed = await http.PostAsync("v1/completions", streamBody);
        var events = (await streamed.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        // three token chunks (no role chunk for text completions), usage, [DONE]
        Assert.Equal(5, events.Length);
        using var usage = JsonDocument.Parse(events[3]["data: ".Length..]);
        Assert.Equal(0, usage.RootElement.GetProperty("choices").GetArrayLength());
        Assert.Equal(5, usage.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Models_Health_Version_Answer()
    {
        using var http = _simulator.CreateHttpClient();
        using var models = JsonDocument.Parse(await http.GetStringAsync("v1/models"));
        var ids = models.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToArray();
        Assert.Equal(["qwen", "qwen-alias"], ids);
        Assert.Equal(6144, models.RootElement.GetProperty("data")[0].GetProperty("max_model_len").GetInt32());

        using var health = await http.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        using var version = JsonDocument.Parse(await http.GetStringAsync("version"));
        Assert.False(string.IsNullOrEmpty(version.RootElement.GetProperty("version").GetString()));
    }
}

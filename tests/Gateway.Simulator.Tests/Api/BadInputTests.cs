using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.Testing;

namespace Gateway.Simulator.Tests.Api;

/// <summary>Every bad request gets vLLM's status and an error body in OpenAI's shape, naming what is wrong.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private static readonly string TwentyWords = string.Join(' ', Enumerable.Repeat("word", 20));

    private SimulatorProcess _simulator = null!;

    public async Task InitializeAsync() => _simulator = await SimulatorProcess.StartAsync("--max-model-len", "100");

    public async Task DisposeAsync() => await _simulator.DisposeAsync();

    public static TheoryData<string, string, int, string, string?, string> Cases() => new()
    {
        // path, body, status, type, param, text the message contains
        { "v1/chat/completions", "{\"model\":\"qwen\",", 400, "BadRequestError", null, "not valid JSON" },
        { "v1/chat/completions", "[1,2]", 400, "BadRequestError", null, "must be a JSON object" },
        { "v1/chat/completions", "{\"model\":\"qwen\"}", 400, "BadRequestError", "messages", "'messages' is required" },
        { "v1/chat/completions", "{\"model\":\"qwen\",\"messages\":[]}", 400, "BadRequestError", "messages", "non-empty array" },
        { "v1/chat/completions", "{\"model\":\"qwen\",\"messages\":[{\"content\":\"hi\"}]}", 400, "BadRequestError", "messages", "messages[0]" },
        { "v1/chat/completions", "{\"model\":\"gpt-4\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 404, "NotFoundError", "model", "The model `gpt-4` does not exist." },
        { "v1/chat/completions", "{\"model\":7,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 400, "BadRequestError", "model", "'model' must be a string" },
        { "v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"" + TwentyWords + "\"}],\"max_tokens\":90}", 400, "BadRequestError", "max_tokens",
            "maximum context length is 100 tokens. However, you requested 117 tokens (27 in the messages, 90 in the completion)" },
        { "v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":0}", 400, "BadRequestError", "max_tokens", "at least 1, got 0" },
        { "v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_completion_tokens\":\"ten\"}", 400, "BadRequestError", "max_completion_tokens", "got \"ten\"" },
        { "v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":\"yes\"}", 400, "BadRequestError", "stream", "'stream' must be true or false" },
        { "v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream_options\":{\"include_usage\":true}}", 400, "BadRequestError", "stream_options", "only be defined when `stream=True`" },
        { "v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":2}", 400, "BadRequestError", "n", "'n' must be 1" },
        { "v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":\"one\"}", 400, "BadRequestError", "n", "'n' must be 1" },
        { "v1/completions", "{\"model\":\"qwen\"}", 400, "BadRequestError", "prompt", "'prompt' is required" },
        { "v1/completions", "{\"prompt\":{\"text\":\"hi\"}}", 400, "BadRequestError", "prompt", "'prompt' must be a string" },
        { "v1/completions", "{\"prompt\":[" + string.Join(',', Enumerable.Repeat("1", 100)) + "]}", 400, "BadRequestError", "prompt",
            "maximum context length is 100 tokens. However, your request has 100 input tokens" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Post_BadInput_AnswersErrorInOpenAIShape(string path, string body, int status, string type, string? param, string message)
    {
        using var http = _simulator.CreateHttpClient();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal((HttpStatusCode)status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        using var document = JsonDocument.Parse(text);
        var error = document.RootElement.GetProperty("error");
        Assert.Equal(4, error.EnumerateObject().Count());
        Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(status, error.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Post_BadInput_IsNotCountedAsARequest()
    {
        using var http = _simulator.CreateHttpClient();
        using var content = new StringContent("{\"model\":\"qwen\"}", Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("v1/chat/completions", content);

        var samples = await MetricsText.ScrapeAsync(http);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        // Every request this simulator saw was bad: none reached the engine.
        Assert.Equal(0, samples["vllm:prompt_tokens_total{model_name=\"qwen\"}"]);
        Assert.Equal(0, samples["vllm:e2e_request_latency_seconds_count{model_name=\"qwen\"}"]);
    }
}

using System.Net.Http.Json;

namespace Gateway.IntegrationTests.Support;

/// <summary>Chat-completion bodies as an application sends them, for tests that look at raw HTTP.</summary>
internal static class ChatRequest
{
    /// <summary>A chat request for <paramref name="maxTokens"/> tokens; streamed ones ask for usage, as the OpenAI SDK does.</summary>
    public static JsonContent Body(int maxTokens, bool stream = false, string model = GatewayFixture.Model) =>
        JsonContent.Create(stream
            ? new
            {
                model,
                messages = new[] { new { role = "user", content = "Tell me a story" } },
                max_tokens = maxTokens,
                stream = true,
                stream_options = new { include_usage = true },
            }
            : (object)new
            {
                model,
                messages = new[] { new { role = "user", content = "Tell me a story" } },
                max_tokens = maxTokens,
            });

    /// <summary>A <c>POST /v1/chat/completions</c> with <see cref="Body"/>.</summary>
    public static HttpRequestMessage Post(int maxTokens, bool stream = false, string model = GatewayFixture.Model) =>
        new(HttpMethod.Post, "v1/chat/completions") { Content = Body(maxTokens, stream, model) };
}

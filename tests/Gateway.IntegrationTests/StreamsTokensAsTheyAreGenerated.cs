using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Gateway.IntegrationTests.Support;

namespace Gateway.IntegrationTests;

/// <summary>
/// Streamed answers pass through the gateway event by event: with a replica that makes a token every
/// 200 ms, the client sees tokens 200 ms apart, not one burst when the answer ends.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class StreamsTokensAsTheyAreGenerated
{
    [Fact]
    public async Task TokenEvents_ArriveSpacedAsTheReplicaSendsThem()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            [["--inter-token-latency", "200"]],
            sims => new() { Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, sims[0]))] });
        using var http = gateway.CreatePublicClient();

        // The first request through a cold client, gateway and simulator spends hundreds of milliseconds in the
        // JIT while the replica keeps writing; its events then reach the client together. Measure a warm path.
        using (var warmUp = await http.SendAsync(ChatRequest.Post(maxTokens: 1, stream: true)))
        {
            Assert.EndsWith("data: [DONE]\n\n", await warmUp.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var clock = Stopwatch.StartNew();
        using var response = await http.SendAsync(ChatRequest.Post(maxTokens: 5, stream: true), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        var tokenArrivals = new List<TimeSpan>();
        var events = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            var data = line["data: ".Length..];
            events.Add(data);
            if (data != "[DONE]" && HasContent(data))
            {
                tokenArrivals.Add(clock.Elapsed);
            }
        }

        var completed = clock.Elapsed;

        // role, five tokens, usage, [DONE]
        Assert.Equal(8, events.Count);
        Assert.Equal("[DONE]", events[^1]);
        Assert.Equal(5, tokenArrivals.Count);

        // Four gaps of 200 ms at the replica; a buffering gateway would deliver all five at once.
        var spread = tokenArrivals[^1] - tokenArrivals[0];
        Assert.True(spread >= TimeSpan.FromMilliseconds(600), $"tokens arrived within {spread.TotalMilliseconds} ms: {Describe(tokenArrivals)}");
        Assert.True(completed - tokenArrivals[0] >= TimeSpan.FromMilliseconds(600),
            $"the first token came {(completed - tokenArrivals[0]).TotalMilliseconds} ms before the end: {Describe(tokenArrivals)}");
    }

    private static bool HasContent(string data)
    {
        using var chunk = JsonDocument.Parse(data);
        var choices = chunk.RootElement.GetProperty("choices");
        return choices.GetArrayLength() > 0
            && choices[0].GetProperty("delta").TryGetProperty("content", out var content)
            && content.GetString() is { Length: > 0 };
    }

    private static string Describe(List<TimeSpan> arrivals) => string.Join(", ", arrivals.Select(a => $"{a.TotalMilliseconds:F0} ms"));
}

using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;

namespace Gateway.IntegrationTests;

/// <summary>
/// With <c>Gateway:RequestLog:Path</c> set, a plain and a streamed chat completion and a request for a model no service
/// serves each leave one JSON line once the gateway has stopped: the tokens of the answer's usage, the pool, the
/// status and timings, the 404's reason, and nowhere the prompt or the answer.
/// </summary>
public sealed class RequestLogRecordsEveryRequestWithoutItsText
{
    private const string Prompt = "Tell me about the violet heron of Quarrendale";

    private static StringContent Body(int maxTokens, bool stream = false, string model = GatewayFixture.Model) => new(
        $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{Prompt}}"}],"max_tokens":{{maxTokens}}{{(stream ? ",\"stream\":true" : "")}}}""",
        Encoding.UTF8,
        "application/json");

    [Fact]
    public async Task PlainStreamedAndRejectedRequests_AreOneLineEach_WithTheirUsagePoolAndStatus_AndNoText()
    {
        var folder = Directory.CreateTempSubdirectory("request-log-").FullName;
        try
        {
            var path = Path.Combine(folder, "logs", "requests.jsonl");
            var started = DateTimeOffset.UtcNow;
            string answer;
            long promptTokens, completionTokens;
            var (plainBytes, streamedBytes, rejectedBytes) = (0L, 0L, 0L);
            await using (var gateway = await GatewayFixture.StartAsync(
                [[]],
                sims => new GatewayOptions
                {
                    Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, sims[0]))],
                    RequestLog = new RequestLogOptions { Path = path },
                }))
            {
                using var http = gateway.CreatePublicClient();
                using (var plainBody = Body(5))
                using (var plain = await http.PostAsync("v1/chat/completions", plainBody))
                {
                    plainBytes = plainBody.Headers.ContentLength!.Value;
                    var text = await plain.Content.ReadAsStringAsync();
                    Assert.True(plain.StatusCode == HttpStatusCode.OK, text);
                    using var json = JsonDocument.Parse(text);
                    answer = json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
                    var usage = json.RootElement.GetProperty("usage");
                    (promptTokens, completionTokens) = (usage.GetProperty("prompt_tokens").GetInt64(), usage.GetProperty("completion_tokens").GetInt64());
                }

                using (var streamedBody = Body(4, stream: true))
                using (var streamed = await http.PostAsync("v1/chat/completions", streamedBody))
                {
                    streamedBytes = streamedBody.Headers.ContentLength!.Value;
                    Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
                    await streamed.Content.ReadAsStringAsync();
                }

                // No Host naming the service, and a model none serves: the gateway answers 404 itself.
                using var byAddress = gateway.CreatePublicClient(host: null);
                using (var rejectedBody = Body(3, model: "no-such-model"))
                using (var rejected = await byAddress.PostAsync("v1/chat/completions", rejectedBody))
                {
                    rejectedBytes = rejectedBody.Headers.ContentLength!.Value;
                    Assert.Equal(HttpStatusCode.NotFound, rejected.StatusCode);
                }
            }

            var ended = DateTimeOffset.UtcNow;
            var file = await File.ReadAllTextAsync(path);
            Assert.DoesNotContain("violet heron", file, StringComparison.Ordinal);
            Assert.DoesNotContain("Quarrendale", file, StringComparison.Ordinal);
            if (answer.Trim().Length >= 8)
            {
                Assert.DoesNotContain(answer.Trim(), file, StringComparison.Ordinal);
            }

            var lines = file.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
            Assert.Equal(3, lines.Count);
            foreach (var line in lines)
            {
                Assert.InRange(line.GetProperty("time").GetDateTimeOffset(), started.AddSeconds(-1), ended);
                Assert.EndsWith("Z", line.GetProperty("time").GetString(), StringComparison.Ordinal);
                Assert.Equal("chat", line.GetProperty("kind").GetString());
                Assert.Equal("anonymous", line.GetProperty("tenant").GetString());
                Assert.Equal("Standard", line.GetProperty("priority").GetString());
                Assert.True(line.GetProperty("duration_ms").GetDouble() > 0);
            }

            var plainLine = Assert.Single(lines, l => l.GetProperty("request_bytes").GetInt64() == plainBytes && !l.GetProperty("stream").GetBoolean());
            Assert.Equal(
                ("qwen-chat", "on-prem", 200, 1, 5, promptTokens, completionTokens),
                (plainLine.GetProperty("service").GetString(), plainLine.GetProperty("pool").GetString(), plainLine.GetProperty("status").GetInt32(),
                 plainLine.GetProperty("attempts").GetInt32(), plainLine.GetProperty("max_tokens").GetInt32(),
                 plainLine.GetProperty("prompt_tokens").GetInt64(), plainLine.GetProperty("completion_tokens").GetInt64()));
            Assert.InRange(plainLine.GetProperty("queue_wait_ms").GetDouble(), 0, 5000);
            Assert.InRange(plainLine.GetProperty("ttft_ms").GetDouble(), 0, plainLine.GetProperty("duration_ms").GetDouble());
            Assert.False(plainLine.TryGetProperty("reason", out _));

            // The stream did not ask for usage: the gateway asked on its behalf, and its tokens are the same prompt's and 4.
            var streamedLine = Assert.Single(lines, l => l.TryGetProperty("stream", out var s) && s.GetBoolean());
            Assert.Equal(
                ("qwen-chat", "on-prem", 200, 1, 4, streamedBytes, promptTokens, 4L),
                (streamedLine.GetProperty("service").GetString(), streamedLine.GetProperty("pool").GetString(), streamedLine.GetProperty("status").GetInt32(),
                 streamedLine.GetProperty("attempts").GetInt32(), streamedLine.GetProperty("max_tokens").GetInt32(), streamedLine.GetProperty("request_bytes").GetInt64(),
                 streamedLine.GetProperty("prompt_tokens").GetInt64(), streamedLine.GetProperty("completion_tokens").GetInt64()));
            Assert.InRange(streamedLine.GetProperty("ttft_ms").GetDouble(), 0, streamedLine.GetProperty("duration_ms").GetDouble());

            var rejectedLine = Assert.Single(lines, l => l.GetProperty("status").GetInt32() == 404);
            Assert.Equal(("not_found", 0, rejectedBytes, 3, false), (rejectedLine.GetProperty("reason").GetString(), rejectedLine.GetProperty("attempts").GetInt32(),
                rejectedLine.GetProperty("request_bytes").GetInt64(), rejectedLine.GetProperty("max_tokens").GetInt32(), rejectedLine.GetProperty("stream").GetBoolean()));
            foreach (var absent in new[] { "service", "pool", "prompt_tokens", "completion_tokens", "ttft_ms", "queue_wait_ms" })
            {
                Assert.False(rejectedLine.TryGetProperty(absent, out _), absent);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

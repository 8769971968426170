using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Tenancy;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// Two tenants share one on-prem slot: <c>batch</c> (Sheddable, on-prem only, 2 requests a minute) holds it with a long
/// stream while <c>chat</c> (Critical, 3 requests a minute) has had two requests served, has one waiting for the slot
/// and one refused over its requests per minute. <c>/admin/status</c> shows each tenant against its limits with what it
/// has in flight and waiting, never a key; <c>/admin/history</c> has the per-second samples of the same moments.
/// </summary>
public sealed class AdminStatusShowsTenantsAndRecentHistory : IAsyncLifetime
{
    private const string ChatKey = "sk-chat-status";
    private const string BatchKey = "sk-batch-status";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await GatewayFixture.StartAsync([["--inter-token-latency", "20"]], sims => new GatewayOptions
        {
            Auth = new AuthOptions { Mode = AuthMode.ApiKeys },
            Tenants =
            [
                new TenantOptions
                {
                    Name = "chat", Priority = PriorityClass.Critical, ApiKeyHashes = [TenantDirectory.Hash(ChatKey)],
                    Limits = new TenantLimitsOptions { RequestsPerMinute = 3, TokensPerMinute = 120, MaxConcurrent = 4 },
                },
                new TenantOptions
                {
                    Name = "batch", Priority = PriorityClass.Sheddable, Residency = Residency.OnPremOnly, ApiKeyHashes = [TenantDirectory.Hash(BatchKey)],
                    Limits = new TenantLimitsOptions { RequestsPerMinute = 2 },
                },
            ],
            Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 1, sims[0]))],
        });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private static HttpRequestMessage Chat(string key)
    {
        var request = ChatRequest.Post(maxTokens: 2);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return request;
    }

    private async Task<JsonDocument> ReadAsync(string path) => JsonDocument.Parse(await _gateway.Admin.GetStringAsync(path));

    private static JsonElement Tenant(JsonDocument status, string name) =>
        status.RootElement.GetProperty("tenants").EnumerateArray().Single(t => t.GetProperty("name").GetString() == name);

    private static string Compact(JsonElement element) => JsonSerializer.Serialize(element);

    [Fact]
    public async Task TenantsUseLimitsAndWaiting_AreInTheStatus_AndTheSecondsBeforeInTheHistory()
    {
        using var http = _gateway.CreatePublicClient();
        for (var i = 0; i < 2; i++)
        {
            using var served = await http.SendAsync(Chat(ChatKey));
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        // 3,000 tokens at 20 ms: batch holds the one slot for a minute, longer than the test.
        using var held = await StreamedAnswer.OpenAsync(_gateway.PublicAddress, maxTokens: 3000, apiKey: BatchKey);
        var queued = http.SendAsync(Chat(ChatKey));
        try
        {
            await Eventually.WaitAsync(async () => (await _gateway.StatusAsync()).QueueDepth, depth => depth == 1, Deadline, "chat's third request waiting");
            using (var refused = await http.SendAsync(Chat(ChatKey)))
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            }

            var text = await _gateway.Admin.GetStringAsync("admin/status");
            Assert.DoesNotContain("sk-", text, StringComparison.Ordinal);
            Assert.DoesNotContain(TenantDirectory.Hash(ChatKey), text, StringComparison.Ordinal);
            Assert.DoesNotContain(TenantDirectory.Hash(BatchKey), text, StringComparison.Ordinal);
            using var status = JsonDocument.Parse(text);
            Assert.Equal(["chat", "batch"], status.RootElement.GetProperty("tenants").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
            Assert.Equal("onPrem", status.RootElement.GetProperty("services")[0].GetProperty("pools")[0].GetProperty("location").GetString());

            var chat = Tenant(status, "chat");
            Assert.Equal(("critical", "any"), (chat.GetProperty("class").GetString(), chat.GetProperty("residency").GetString()));
            Assert.Equal("""{"requestsPerMinute":3,"tokensPerMinute":120,"maxConcurrent":4}""", Compact(chat.GetProperty("limits")));

            // The bucket gives one request back every 20 s: none came back within these few seconds.
            Assert.Equal((3, 0), (chat.GetProperty("requests").GetProperty("used").GetInt32(), chat.GetProperty("requests").GetProperty("remaining").GetInt32()));
            // 120 tokens a minute come back at 2 a second: what the three requests took (charged by usage, or reserved for
            // the one waiting) is still missing from the bucket.
            var tokens = chat.GetProperty("tokens");
            Assert.Equal(120, tokens.GetProperty("used").GetInt64() + tokens.GetProperty("remaining").GetInt64());
            Assert.True(tokens.GetProperty("used").GetInt64() > 0);
            Assert.Equal((0, 1), (chat.GetProperty("inFlight").GetInt32(), chat.GetProperty("waiting").GetInt32()));
            Assert.Equal("""{"qwen-chat":1}""", Compact(chat.GetProperty("waitingByService")));
            Assert.Equal(2, chat.GetProperty("served").GetInt64());
            Assert.Equal(1, chat.GetProperty("rejected").GetProperty("rate_limited_requests").GetInt64());
            Assert.Equal(0, chat.GetProperty("rejected").GetProperty("queue_full").GetInt64());

            var batch = Tenant(status, "batch");
            Assert.Equal(("sheddable", "onPremOnly"), (batch.GetProperty("class").GetString(), batch.GetProperty("residency").GetString()));
            Assert.Equal("""{"requestsPerMinute":2,"tokensPerMinute":null,"maxConcurrent":null}""", Compact(batch.GetProperty("limits")));
            Assert.Equal((1, 1), (batch.GetProperty("requests").GetProperty("used").GetInt32(), batch.GetProperty("requests").GetProperty("remaining").GetInt32()));
            Assert.Equal(JsonValueKind.Null, batch.GetProperty("tokens").ValueKind);
            Assert.Equal((1, 0, 0L), (batch.GetProperty("inFlight").GetInt32(), batch.GetProperty("waiting").GetInt32(), batch.GetProperty("served").GetInt64()));

            // A sample taken since: batch's stream in flight, chat's request waiting.
            using var history = await Eventually.WaitAsync(
                () => ReadAsync("admin/history"),
                h => h.RootElement.GetProperty("samples").EnumerateArray().Any(s =>
                    s.GetProperty("tenants").GetProperty("chat").GetProperty("waiting").GetInt32() == 1 &&
                    s.GetProperty("tenants").GetProperty("batch").GetProperty("inFlight").GetInt32() == 1),
                Deadline,
                "a sample of batch in flight and chat waiting");
            var root = history.RootElement;
            Assert.Equal((1, 900), (root.GetProperty("intervalSeconds").GetInt32(), root.GetProperty("capacity").GetInt32()));
            Assert.Equal("""["chat","batch"]""", root.GetProperty("tenants").GetRawText());
            var samples = root.GetProperty("samples").EnumerateArray().ToArray();
            Assert.True(samples.Length >= 2, $"{samples.Length} samples");
            var times = samples.Select(s => s.GetProperty("at").GetInt64()).ToArray();
            Assert.All(times.Zip(times.Skip(1)), pair => Assert.InRange(pair.Second - pair.First, 500, 2500));

            var last = samples[^1];
            var service = last.GetProperty("services").GetProperty("qwen-chat");
            Assert.Equal((2, 1, 1), (service.GetProperty("demand").GetInt32(), service.GetProperty("inFlight").GetInt32(), service.GetProperty("waiting").GetInt32()));
            var pool = service.GetProperty("pools").GetProperty("on-prem");
            Assert.Equal((1, 1, 1), (pool.GetProperty("inFlight").GetInt32(), pool.GetProperty("readyReplicas").GetInt32(), pool.GetProperty("capacity").GetInt32()));

            // Every answer from the replica so far was chat's two, served on-prem; the 429 was the gateway's own.
            var served = samples.Select(s => s.GetProperty("services").GetProperty("qwen-chat")).ToArray();
            Assert.Equal((2, 0), (served.Sum(s => s.GetProperty("servedOnPrem").GetInt32()), served.Sum(s => s.GetProperty("servedCloud").GetInt32())));
            Assert.Equal(2, served.Sum(s => s.GetProperty("pools").GetProperty("on-prem").GetProperty("served").GetInt32()));

            using var newer = await ReadAsync($"admin/history?after={times[^1]}");
            Assert.All(newer.RootElement.GetProperty("samples").EnumerateArray(), s => Assert.True(s.GetProperty("at").GetInt64() > times[^1]));
        }
        finally
        {
            held.Dispose();
            using var answer = await queued;
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }
    }

    [Fact]
    public async Task History_AfterThatIsNotANumber_Answers400()
    {
        using var response = await _gateway.Admin.GetAsync("admin/history?after=yesterday");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("after: Unix milliseconds expected\n", await response.Content.ReadAsStringAsync());
    }
}

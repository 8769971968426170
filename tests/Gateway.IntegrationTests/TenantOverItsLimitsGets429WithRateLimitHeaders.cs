using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Tenancy;
using Gateway.Testing;
using OpenAI.Chat;

namespace Gateway.IntegrationTests;

/// <summary>
/// A tenant over its requests per minute or its requests at once gets OpenAI's 429 <c>rate_limit_exceeded</c> with
/// <c>Retry-After</c>, before its request takes a place in the queue or reaches a replica; every answer, served or
/// refused, carries the <c>x-ratelimit-*</c> headers of the limits it has, and no others.
/// </summary>
public sealed class TenantOverItsLimitsGets429WithRateLimitHeaders : IAsyncLifetime
{
    private const string TwoAMinuteKey = "sk-two-a-minute";
    private const string OneAtATimeKey = "sk-one-at-a-time";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await GatewayFixture.StartAsync([["--inter-token-latency", "20"]], sims => new GatewayOptions
        {
            Auth = new AuthOptions { Mode = AuthMode.ApiKeys },
            Tenants =
            [
                new TenantOptions
                {
                    Name = "two-a-minute", ApiKeyHashes = [TenantDirectory.Hash(TwoAMinuteKey)], Limits = new TenantLimitsOptions { RequestsPerMinute = 2 },
                },
                new TenantOptions
                {
                    Name = "one-at-a-time", ApiKeyHashes = [TenantDirectory.Hash(OneAtATimeKey)], Limits = new TenantLimitsOptions { MaxConcurrent = 1 },
                },
            ],
            Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, sims[0]))],
        });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private static string? Header(PipelineResponse response, string name) => response.Headers.TryGetValue(name, out var value) ? value : null;

    private async Task<IReadOnlyDictionary<string, double>> MetricsAsync() => MetricsText.Parse(await _gateway.Admin.GetStringAsync("metrics"));

    [Fact]
    public async Task OverRequestsPerMinute_Answers429WithRetryAfterAndTheRequestHeaders_WithoutQueueingIt()
    {
        using var http = _gateway.CreatePublicClient();
        var chat = _gateway.CreateChatClient(http, TwoAMinuteKey);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 2 };

        var first = await chat.CompleteChatAsync([new UserChatMessage("Hello")], options);
        var second = await chat.CompleteChatAsync([new UserChatMessage("Hello")], options);
        var e = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("Hello")], options));

        // The bucket holds two requests and gets one back every 30 s; none came back within this test's first seconds.
        Assert.Equal(("2", "1", "30s"), (Header(first.GetRawResponse(), "x-ratelimit-limit-requests"),
            Header(first.GetRawResponse(), "x-ratelimit-remaining-requests"), Header(first.GetRawResponse(), "x-ratelimit-reset-requests")));
        Assert.Equal(("2", "0", "1m0s"), (Header(second.GetRawResponse(), "x-ratelimit-limit-requests"),
            Header(second.GetRawResponse(), "x-ratelimit-remaining-requests"), Header(second.GetRawResponse(), "x-ratelimit-reset-requests")));
        Assert.Null(Header(first.GetRawResponse(), "x-ratelimit-limit-tokens"));

        Assert.Equal(429, e.Status);
        var refused = e.GetRawResponse()!;
        Assert.Equal("30", Header(refused, "Retry-After"));
        Assert.Equal(("2", "0", "1m0s"), (Header(refused, "x-ratelimit-limit-requests"),
            Header(refused, "x-ratelimit-remaining-requests"), Header(refused, "x-ratelimit-reset-requests")));
        using (var body = JsonDocument.Parse(refused.Content.ToString()))
        {
            var error = body.RootElement.GetProperty("error");
            Assert.Equal(("requests", "rate_limit_exceeded"), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString()));
            Assert.StartsWith(
                "Rate limit reached for tenant two-a-minute on requests per min (RPM): Limit 2. Please try again in 30s.",
                error.GetProperty("message").GetString(),
                StringComparison.Ordinal);
        }

        Assert.Equal(2L, (await _gateway.StatusAsync())["on-prem-1"].Served);
        var metrics = await MetricsAsync();
        Assert.Equal(2, metrics["gateway_queue_wait_seconds_count{service=\"qwen-chat\"}"]);
        Assert.Equal(1, metrics["gateway_tenant_rejected_total{tenant=\"two-a-minute\",reason=\"rate_limited_requests\"}"]);
        Assert.Equal(1, metrics["gateway_rejected_total{service=\"qwen-chat\",reason=\"rate_limited_requests\"}"]);
        Assert.Equal(2, metrics["gateway_tenant_requests_total{tenant=\"two-a-minute\",service=\"qwen-chat\",code=\"200\"}"]);
        Assert.Equal(1, metrics["gateway_tenant_requests_total{tenant=\"two-a-minute\",service=\"qwen-chat\",code=\"429\"}"]);
    }

    [Fact]
    public async Task OverMaxConcurrent_Answers429UntilTheRunningRequestEnds()
    {
        using var http = _gateway.CreatePublicClient();
        var chat = _gateway.CreateChatClient(http, OneAtATimeKey);
        var running = await StreamedAnswer.OpenAsync(_gateway.PublicAddress, maxTokens: 1000, apiKey: OneAtATimeKey);

        var e = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("Hello")]));

        Assert.Equal(429, e.Status);
        var refused = e.GetRawResponse()!;
        Assert.Equal("1", Header(refused, "Retry-After"));
        Assert.Null(Header(refused, "x-ratelimit-limit-requests"));
        Assert.Contains("on concurrent requests: Limit 1 in flight or waiting", refused.Content.ToString(), StringComparison.Ordinal);

        Assert.Equal(1, (await MetricsAsync())["gateway_tenant_rejected_total{tenant=\"one-at-a-time\",reason=\"rate_limited_concurrency\"}"]);

        // The client leaves; once its request has ended on the gateway, the tenant is served again.
        running.Dispose();
        var answer = await Eventually.WaitAsync(
            async () =>
            {
                try
                {
                    return (ChatCompletion?)await chat.CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 2 });
                }
                catch (ClientResultException refusedAgain) when (refusedAgain.Status == 429)
                {
                    return null;
                }
            },
            served => served is not null,
            Deadline,
            "the tenant served once its running request ended");
        Assert.Equal(2, answer!.Usage.OutputTokenCount);
    }
}

using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Tenancy;
using Gateway.Testing;
using OpenAI.Chat;

namespace Gateway.IntegrationTests;

/// <summary>
/// A tenant's tokens per minute are charged what each answer's usage says, plain and streamed: a request reserves its
/// estimate up front, the difference comes back when its usage arrives, and once the budget is used the next request
/// gets 429 <c>rate_limit_exceeded</c> of type <c>tokens</c>, whose headers show exactly what the usage left (plus what
/// the bucket refilled meanwhile); the per-tenant token counters equal the simulator's own.
/// </summary>
public sealed class TenantTokensAreChargedFromTheAnswersUsage : IAsyncLifetime
{
    private const string Key = "sk-chat-example";
    private const int TokensPerMinute = 100;
    private const int MaxTokens = 20;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await GatewayFixture.StartAsync([[]], sims => new GatewayOptions
        {
            Auth = new AuthOptions { Mode = AuthMode.ApiKeys },
            Tenants =
            [
                new TenantOptions { Name = "chat", ApiKeyHashes = [TenantDirectory.Hash(Key)], Limits = new TenantLimitsOptions { TokensPerMinute = TokensPerMinute } },
            ],
            Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, sims[0]))],
        });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private static string? Header(PipelineResponse response, string name) => response.Headers.TryGetValue(name, out var value) ? value : null;

    private async Task<IReadOnlyDictionary<string, double>> MetricsAsync() => MetricsText.Parse(await _gateway.Admin.GetStringAsync("metrics"));

    /// <summary>Waits until the gateway has counted <paramref name="used"/> tokens for the tenant: it settles the tenant's budget just before.</summary>
    private async Task ChargedAsync(int used) => await Eventually.WaitAsync(
        MetricsAsync,
        m => m["gateway_tenant_tokens_total{tenant=\"chat\",kind=\"prompt\"}"] + m["gateway_tenant_tokens_total{tenant=\"chat\",kind=\"completion\"}"] == used,
        Deadline,
        $"{used} tokens charged");

    [Fact]
    public async Task PlainAndStreamedAnswers_AreChargedTheirUsage_UntilTheBudgetTurnsTheNextAway()
    {
        var clock = Stopwatch.StartNew();
        using var http = _gateway.CreatePublicClient();
        var chat = _gateway.CreateChatClient(http, Key);
        var options = new ChatCompletionOptions { MaxOutputTokenCount = MaxTokens };
        var (prompt, completion) = (0, 0);

        // A plain answer: its headers show the reservation (the estimated prompt and all of max_tokens) taken.
        var plain = await chat.CompleteChatAsync([new UserChatMessage("Hello")], options);
        var headers = plain.GetRawResponse();
        Assert.Equal("100", Header(headers, "x-ratelimit-limit-tokens"));
        Assert.InRange(long.Parse(Header(headers, "x-ratelimit-remaining-tokens")!, CultureInfo.InvariantCulture), 0, TokensPerMinute - MaxTokens - 1);
        Assert.Matches("^[0-9.]+(ms|s)$", Header(headers, "x-ratelimit-reset-tokens"));
        Assert.Null(Header(headers, "x-ratelimit-limit-requests"));
        (prompt, completion) = (prompt + plain.Value.Usage.InputTokenCount, completion + plain.Value.Usage.OutputTokenCount);
        await ChargedAsync(prompt + completion);

        // A streamed one: charged from the usage event at its end.
        ChatTokenUsage? usage = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Hello")], options))
        {
            usage ??= update.Usage;
        }

        Assert.NotNull(usage);
        (prompt, completion) = (prompt + usage.InputTokenCount, completion + usage.OutputTokenCount);
        await ChargedAsync(prompt + completion);

        // Plain ones until the budget refuses one (28 tokens each, a reservation of about twice that: the third or fourth).
        ClientResultException? refused = null;
        for (var i = 0; i < 5 && refused is null; i++)
        {
            try
            {
                var more = await chat.CompleteChatAsync([new UserChatMessage("Hello")], options);
                (prompt, completion) = (prompt + more.Value.Usage.InputTokenCount, completion + more.Value.Usage.OutputTokenCount);
                await ChargedAsync(prompt + completion);
            }
            catch (ClientResultException e)
            {
                refused = e;
            }
        }

        var elapsed = clock.Elapsed;
        Assert.NotNull(refused);
        Assert.Equal(429, refused.Status);
        var answer = refused.GetRawResponse()!;
        using (var body = JsonDocument.Parse(answer.Content.ToString()))
        {
            var error = body.RootElement.GetProperty("error");
            Assert.Equal(("tokens", "rate_limit_exceeded"), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString()));
            Assert.StartsWith("Rate limit reached for tenant chat on tokens per min (TPM): Limit 100, Requested ", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        // What the usage left, exactly, plus at most what 100 tokens a minute refilled since the first request.
        var left = TokensPerMinute - (prompt + completion);
        var refilled = (int)Math.Ceiling(elapsed.TotalSeconds * TokensPerMinute / 60);
        Assert.InRange(long.Parse(Header(answer, "x-ratelimit-remaining-tokens")!, CultureInfo.InvariantCulture), left, left + refilled);
        Assert.True(int.Parse(Header(answer, "Retry-After")!, CultureInfo.InvariantCulture) >= 1);

        var simulator = _gateway.Simulators[0];
        var metrics = await MetricsAsync();
        Assert.Equal(prompt, metrics["gateway_tenant_tokens_total{tenant=\"chat\",kind=\"prompt\"}"]);
        Assert.Equal(completion, metrics["gateway_tenant_tokens_total{tenant=\"chat\",kind=\"completion\"}"]);
        Assert.Equal(prompt, await GatewayFixture.SampleAsync(simulator, "vllm:prompt_tokens_total{model_name=\"qwen\"}"));
        Assert.Equal(completion, await GatewayFixture.SampleAsync(simulator, "vllm:generation_tokens_total{model_name=\"qwen\"}"));
        Assert.Equal(1, metrics["gateway_tenant_rejected_total{tenant=\"chat\",reason=\"rate_limited_tokens\"}"]);
    }
}

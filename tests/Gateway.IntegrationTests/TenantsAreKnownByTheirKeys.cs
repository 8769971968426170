using System.ClientModel;
using System.Net;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Tenancy;
using Gateway.Testing;
using OpenAI.Chat;

namespace Gateway.IntegrationTests;

/// <summary>
/// With <c>Auth:Mode</c> <c>ApiKeys</c> an application is served with one of its tenant's keys; a wrong key makes the
/// OpenAI SDK raise its authentication error (401) and a missing one gets 401 <c>invalid_api_key</c>, neither reaching a
/// replica nor counted for any tenant; a tenant asking for a service it may not use gets 403.
/// </summary>
public sealed class TenantsAreKnownByTheirKeys : IAsyncLifetime
{
    private const string ChatKey = "sk-chat-example";
    private const string BatchKey = "sk-batch-example";

    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await GatewayFixture.StartAsync([[]], sims => new GatewayOptions
        {
            Auth = new AuthOptions { Mode = AuthMode.ApiKeys },
            Tenants =
            [
                new TenantOptions { Name = "chat", ApiKeyHashes = [TenantDirectory.Hash(ChatKey)] },
                new TenantOptions { Name = "batch", ApiKeyHashes = [TenantDirectory.Hash(BatchKey)], Services = ["llama"] },
            ],
            Services =
            [
                GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, sims[0])),
                new ServiceOptions { Name = "llama", Models = ["llama"], Pools = [GatewayFixture.Pool("on-prem", 0, 4, sims[0])] },
            ],
        });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private async Task<IReadOnlyDictionary<string, double>> MetricsAsync() => MetricsText.Parse(await _gateway.Admin.GetStringAsync("metrics"));

    [Fact]
    public async Task RightKey_IsServedAndCountedForItsTenant()
    {
        using var http = _gateway.CreatePublicClient();

        ChatCompletion answer = await _gateway.CreateChatClient(http, ChatKey).CompleteChatAsync(
            [new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 3 });

        Assert.Equal((8, 3), (answer.Usage.InputTokenCount, answer.Usage.OutputTokenCount));
        var metrics = await MetricsAsync();
        Assert.Equal(1, metrics["gateway_tenant_requests_total{tenant=\"chat\",service=\"qwen-chat\",code=\"200\"}"]);
        Assert.Equal(8, metrics["gateway_tenant_tokens_total{tenant=\"chat\",kind=\"prompt\"}"]);
        Assert.Equal(3, metrics["gateway_tenant_tokens_total{tenant=\"chat\",kind=\"completion\"}"]);
        Assert.Equal(0, metrics["gateway_tenant_tokens_total{tenant=\"batch\",kind=\"completion\"}"]);
    }

    [Fact]
    public async Task WrongKey_TheSdkRaisesItsAuthenticationError_AndNothingReachesAReplica()
    {
        using var http = _gateway.CreatePublicClient();

        var e = await Assert.ThrowsAsync<ClientResultException>(() =>
            _gateway.CreateChatClient(http, "sk-not-a-tenants").CompleteChatAsync([new UserChatMessage("Hello")]));

        Assert.Equal(401, e.Status);
        Assert.Contains("invalid_api_key", e.Message, StringComparison.Ordinal);
        Assert.Equal(0L, (await _gateway.StatusAsync())["on-prem-1"].Served);
        var metrics = await MetricsAsync();
        Assert.Equal(1, metrics["gateway_rejected_total{service=\"qwen-chat\",reason=\"unauthorized\"}"]);
        Assert.DoesNotContain(metrics.Keys, k => k.StartsWith("gateway_tenant_requests_total", StringComparison.Ordinal));
        Assert.Equal(0, metrics["gateway_tenant_rejected_total{tenant=\"chat\",reason=\"unauthorized\"}"]);
    }

    [Fact]
    public async Task MissingKey_Answers401InvalidApiKeyWithABearerChallenge()
    {
        using var http = _gateway.CreatePublicClient();

        using var response = await http.SendAsync(ChatRequest.Post(maxTokens: 3));

        await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.Unauthorized, "invalid_request_error", "invalid_api_key");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(0L, (await _gateway.StatusAsync())["on-prem-1"].Served);
    }

    [Fact]
    public async Task ModelList_NeedsAKey_AndShowsOnlyTheServicesTheTenantMayUse()
    {
        using var http = _gateway.CreatePublicClient(host: null);
        using var anonymous = await http.GetAsync("v1/models");
        await OpenAIErrorAssert.IsAsync(anonymous, HttpStatusCode.Unauthorized, "invalid_request_error", "invalid_api_key");

        var models = new OpenAI.Models.OpenAIModelClient(new ApiKeyCredential(BatchKey), new OpenAI.OpenAIClientOptions
        {
            Endpoint = new Uri(_gateway.PublicAddress, "v1"),
            Transport = new System.ClientModel.Primitives.HttpClientPipelineTransport(http),
        });
        var listed = await models.GetModelsAsync();

        Assert.Equal(["llama"], listed.Value.Select(m => m.Id));
    }

    [Fact]
    public async Task ServiceTheTenantMayNotUse_Answers403_CountedForTheTenant()
    {
        using var http = _gateway.CreatePublicClient();

        var e = await Assert.ThrowsAsync<ClientResultException>(() =>
            _gateway.CreateChatClient(http, BatchKey).CompleteChatAsync([new UserChatMessage("Hello")]));

        Assert.Equal(403, e.Status);
        var metrics = await MetricsAsync();
        Assert.Equal(1, metrics["gateway_tenant_rejected_total{tenant=\"batch\",reason=\"forbidden\"}"]);
        Assert.Equal(0, metrics["gateway_tenant_rejected_total{tenant=\"batch\",reason=\"unauthorized\"}"]);
        Assert.Equal(1, metrics["gateway_tenant_requests_total{tenant=\"batch\",service=\"qwen-chat\",code=\"403\"}"]);
    }
}

using System.Net;
using System.Net.Http.Headers;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Tenancy;

namespace Gateway.IntegrationTests;

/// <summary>
/// Residency under overflow: two tenants send more at once than on-prem holds, with a cloud pool beside it. The
/// tenant pinned on-prem waits in the queue for on-prem slots while the other spills to the cloud. Which tenant a
/// backend served is told by the answer length each asks for (7 tokens pinned, 10 the other), which the simulators count.
/// </summary>
public sealed class OnPremOnlyTenantIsNeverServedByTheCloud : IAsyncLifetime
{
    private const string PinnedKey = "sk-records-0123456789";
    private const string AnywhereKey = "sk-chat-0123456789";
    private const int PinnedTokens = 7;
    private const int AnywhereTokens = 10;
    private const int EachTenantSends = 8;
    private const string Finished = "vllm:request_success_total{model_name=\"qwen\",finished_reason=\"length\"}";
    private const string Generated = "vllm:generation_tokens_total{model_name=\"qwen\"}";

    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await GatewayFixture.StartAsync(
            [
                ["--max-num-seqs", "2", "--inter-token-latency", "20"],
                ["--max-num-seqs", "4", "--inter-token-latency", "20"],
            ],
            sims => new()
            {
                Auth = new AuthOptions { Mode = AuthMode.ApiKeys },
                Tenants =
                [
                    new TenantOptions { Name = "records", ApiKeyHashes = [TenantDirectory.Hash(PinnedKey)], Residency = Residency.OnPremOnly },
                    new TenantOptions { Name = "chat", ApiKeyHashes = [TenantDirectory.Hash(AnywhereKey)] },
                ],
                Services =
                [
                    GatewayFixture.QwenChat(
                        GatewayFixture.Pool("on-prem", 0, 2, sims[0]),
                        GatewayFixture.Pool("cloud", 1, 4, sims[1])),
                ],
            });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Overflow_PinnedTenantWaitsForOnPrem_WhileTheOtherSpillsToTheCloud()
    {
        using var http = _gateway.CreatePublicClient();

        // Sixteen at once against two on-prem slots: the pinned tenant's and the other's interleaved.
        var sent = new List<Task<HttpResponseMessage>>();
        for (var i = 0; i < EachTenantSends; i++)
        {
            sent.Add(http.SendAsync(Request(PinnedKey, PinnedTokens)));
            sent.Add(http.SendAsync(Request(AnywhereKey, AnywhereTokens)));
        }

        var responses = await Task.WhenAll(sent);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Array.ForEach(responses, r => r.Dispose());

        // Only the other tenant's 10-token answers came from the cloud, and some did: the overflow was real.
        var cloudServed = await GatewayFixture.SampleAsync(_gateway.Simulators[1], Finished);
        Assert.InRange(cloudServed, 1, EachTenantSends);
        Assert.Equal(cloudServed * AnywhereTokens, await GatewayFixture.SampleAsync(_gateway.Simulators[1], Generated));

        // Every pinned answer came from on-prem, beside the rest of the other tenant's.
        var onPremAnywhere = EachTenantSends - cloudServed;
        Assert.Equal(EachTenantSends + onPremAnywhere, await GatewayFixture.SampleAsync(_gateway.Simulators[0], Finished));
        Assert.Equal(
            (EachTenantSends * PinnedTokens) + (onPremAnywhere * AnywhereTokens),
            await GatewayFixture.SampleAsync(_gateway.Simulators[0], Generated));

        // The gateway's own per-replica counts say the same.
        var status = await _gateway.StatusAsync();
        Assert.Equal((long)cloudServed, status["cloud-1"].Served);
        Assert.Equal((long)(EachTenantSends + onPremAnywhere), status["on-prem-1"].Served);
        Assert.Equal(0, status.QueueDepth);
    }

    private static HttpRequestMessage Request(string key, int maxTokens)
    {
        var request = ChatRequest.Post(maxTokens);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return request;
    }
}

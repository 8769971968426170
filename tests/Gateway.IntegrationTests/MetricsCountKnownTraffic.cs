using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// After known traffic, the admin listener's <c>/metrics</c> holds exactly what happened: answers by pool and
/// status, tokens from the backends' usage (streams included, even those that did not ask for usage), time
/// to first token, queue waits, and the requests the gateway turned away with <c>pool="none"</c>.
/// </summary>
public sealed partial class MetricsCountKnownTraffic
{
    private const string Service = "service=\"qwen-chat\"";

    private static StringContent Body(int maxTokens, bool stream = false, bool includeUsage = false, string model = "qwen") => new(
        $$"""{"model":"{{model}}","messages":[{"role":"user","content":"Hello"}],"max_tokens":{{maxTokens}}{{(stream ? ",\"stream\":true" : "")}}{{(includeUsage ? ",\"stream_options\":{\"include_usage\":true}" : "")}}}""",
        Encoding.UTF8,
        "application/json");

    [Fact]
    public async Task KnownTraffic_MetricsCountItExactly()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            [[], []],
            sims => new() { Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, sims[0]), GatewayFixture.Pool("cloud", 1, 4, sims[1]))] });
        using var http = gateway.CreatePublicClient();
        using var byAddress = gateway.CreatePublicClient(host: null);

        // Three answers on-prem ("Hello" is 8 prompt tokens with the chat template): 5 + 4 + 3 completion tokens.
        using (var plain = await http.PostAsync("v1/chat/completions", Body(5)))
        using (var streamed = await http.PostAsync("v1/chat/completions", Body(4, stream: true)))
        using (var streamedWithUsage = await http.PostAsync("v1/chat/completions", Body(3, stream: true, includeUsage: true)))
        {
            Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
            Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
            Assert.DoesNotContain("\"usage\"", await streamed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Contains("\"completion_tokens\":3", await streamedWithUsage.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Turned away by the gateway: a bad body for the service, and a model nobody serves.
        using (var bad = await http.PostAsync("v1/chat/completions", new StringContent("{\"model\":\"qwen\"}", Encoding.UTF8, "application/json")))
        using (var unknown = await byAddress.PostAsync("v1/chat/completions", Body(1, model: "gpt-4")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        var metrics = MetricsText.Parse(await gateway.Admin.GetStringAsync("metrics"));

        Assert.Equal(3, metrics[$"gateway_requests_total{{{Service},pool=\"on-prem\",code=\"200\"}}"]);
        Assert.False(metrics.ContainsKey($"gateway_requests_total{{{Service},pool=\"cloud\",code=\"200\"}}"));
        Assert.Equal(1, metrics[$"gateway_requests_total{{{Service},pool=\"none\",code=\"400\"}}"]);
        Assert.Equal(1, metrics["gateway_requests_total{service=\"none\",pool=\"none\",code=\"404\"}"]);
        Assert.Equal(1, metrics[$"gateway_rejected_total{{{Service},reason=\"bad_request\"}}"]);
        Assert.Equal(1, metrics["gateway_rejected_total{service=\"none\",reason=\"not_found\"}"]);
        Assert.Equal(24, metrics[$"gateway_tokens_total{{{Service},pool=\"on-prem\",kind=\"prompt\"}}"]);
        Assert.Equal(12, metrics[$"gateway_tokens_total{{{Service},pool=\"on-prem\",kind=\"completion\"}}"]);
        Assert.Equal(0, metrics[$"gateway_tokens_total{{{Service},pool=\"cloud\",kind=\"completion\"}}"]);
        Assert.Equal(3, metrics[$"gateway_time_to_first_token_seconds_count{{{Service},pool=\"on-prem\"}}"]);
        Assert.Equal(3, metrics[$"gateway_request_duration_seconds_count{{{Service},pool=\"on-prem\"}}"]);
        Assert.Equal(3, metrics[$"gateway_queue_wait_seconds_count{{{Service}}}"]);
        Assert.Equal(0, metrics[$"gateway_service_demand{{{Service}}}"]);
        Assert.Equal(4, metrics[$"gateway_pool_capacity{{{Service},pool=\"on-prem\"}}"]);
        Assert.Equal(1, metrics[$"gateway_pool_replicas{{{Service},pool=\"cloud\",state=\"ready\"}}"]);
        Assert.Equal(1, metrics[$"gateway_replica_healthy{{{Service},pool=\"on-prem\",replica=\"on-prem-1\"}}"]);
    }

    [Fact]
    public async Task StreamWithoutIncludeUsage_ClientGetsTheSameBytesAsDirect_AndTokensAreCounted()
    {
        // Two simulators with the same seed answer their first request with the same text and ids.
        await using var direct = await SimulatorProcess.StartAsync("--seed", "7");
        await using var gateway = await GatewayFixture.StartAsync(
            [["--seed", "7"]],
            sims => new() { Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, sims[0]))] });
        using var http = gateway.CreatePublicClient();
        using var directClient = direct.CreateHttpClient();

        using var throughGateway = await http.PostAsync("v1/chat/completions", Body(6, stream: true));
        using var straight = await directClient.PostAsync("v1/chat/completions", Body(6, stream: true));

        // Only "created" (seconds of the wall clock) may differ between two calls.
        Assert.Equal(WithoutCreated(await straight.Content.ReadAsStringAsync()), WithoutCreated(await throughGateway.Content.ReadAsStringAsync()));
        var metrics = MetricsText.Parse(await gateway.Admin.GetStringAsync("metrics"));
        Assert.Equal(6, metrics[$"gateway_tokens_total{{{Service},pool=\"on-prem\",kind=\"completion\"}}"]);
        Assert.Equal(8, metrics[$"gateway_tokens_total{{{Service},pool=\"on-prem\",kind=\"prompt\"}}"]);
    }

    private static string WithoutCreated(string body) => Created().Replace(body, "\"created\":0");

    [GeneratedRegex("\"created\":[0-9]+")]
    private static partial Regex Created();
}

using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// A cloud pool priced per token (0.25 a prompt token, 1 a completion token) serves a plain answer, a stream that did
/// not ask for usage and one that did: <c>gateway_cost_total</c> is their tokens at those prices exactly, and the
/// service's budget of 18 an hour, which they spend to the last unit, reads spent in <c>/metrics</c> and
/// <c>/admin/status</c>.
/// </summary>
public sealed class CostIsCountedFromTheAnswersUsage
{
    private static StringContent Body(int maxTokens, bool stream = false, bool includeUsage = false) => new(
        $$"""{"model":"qwen","messages":[{"role":"user","content":"Hello"}],"max_tokens":{{maxTokens}}{{(stream ? ",\"stream\":true" : "")}}{{(includeUsage ? ",\"stream_options\":{\"include_usage\":true}" : "")}}}""",
        Encoding.UTF8,
        "application/json");

    [Fact]
    public async Task TokensOfPlainAndStreamedAnswers_AreChargedAtTheirPrices_AndSpendTheBudget()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            [[]],
            sims =>
            {
                var cloud = GatewayFixture.Pool("cloud", 1, 4, sims[0]);
                cloud.Cost = new CostOptions { PerMillionPromptTokens = 250_000, PerMillionCompletionTokens = 1_000_000 };
                var service = GatewayFixture.QwenChat(cloud);
                service.Budget = new BudgetOptions { MaxPerHour = 18 };
                return new() { Services = [service] };
            });
        using var http = gateway.CreatePublicClient();

        // "Hello" is 8 prompt tokens with the chat template: 24 prompt tokens (6.0) and 5 + 4 + 3 completion tokens (12.0).
        using (var plain = await http.PostAsync("v1/chat/completions", Body(5)))
        using (var streamed = await http.PostAsync("v1/chat/completions", Body(4, stream: true)))
        using (var streamedWithUsage = await http.PostAsync("v1/chat/completions", Body(3, stream: true, includeUsage: true)))
        {
            Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
            Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
            Assert.Equal(HttpStatusCode.OK, streamedWithUsage.StatusCode);
            await streamed.Content.ReadAsStringAsync();
            await streamedWithUsage.Content.ReadAsStringAsync();
        }

        // A plain answer's last byte can reach the client before the gateway has counted it.
        var metrics = await Eventually.WaitAsync(
            async () => MetricsText.Parse(await gateway.Admin.GetStringAsync("metrics")),
            m => m["gateway_cost_total{service=\"qwen-chat\",pool=\"cloud\"}"] >= 18,
            TimeSpan.FromSeconds(10),
            "the three answers charged");
        Assert.Equal(18.0, metrics["gateway_cost_total{service=\"qwen-chat\",pool=\"cloud\"}"]);
        Assert.Equal(18.0, metrics["gateway_budget_spent_last_hour{service=\"qwen-chat\"}"]);
        Assert.Equal(18.0, metrics["gateway_budget_max_per_hour{service=\"qwen-chat\"}"]);

        using var status = JsonDocument.Parse(await gateway.Admin.GetStringAsync("admin/status"));
        var service = status.RootElement.GetProperty("services")[0];
        var budget = service.GetProperty("budget");
        Assert.Equal((18.0, 18.0, true), (budget.GetProperty("maxPerHour").GetDouble(), budget.GetProperty("spentLastHour").GetDouble(), budget.GetProperty("spent").GetBoolean()));
        var cost = service.GetProperty("pools")[0].GetProperty("cost");
        Assert.Equal((18.0, 18.0, 18.0), (cost.GetProperty("total").GetDouble(), cost.GetProperty("lastHour").GetDouble(), cost.GetProperty("perHour").GetDouble()));
    }
}

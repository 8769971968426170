using System.Net;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;

namespace Gateway.IntegrationTests;

/// <summary>
/// Two services behind one gateway. A request whose Host names no service (an IP address, say) goes to the
/// service that serves its model; <c>GET /v1/models</c> lists the models of the service the Host names, or all.
/// </summary>
public sealed class RoutesByModelWhenHostNamesNoService : IAsyncLifetime
{
    // The model each simulator serves, in the order they are started.
    private static readonly string[] Served = ["qwen", "llama"];

    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await GatewayFixture.StartAsync(
            [["--served-model-name", Served[0]], ["--served-model-name", Served[1]]],
            sims => new()
            {
                Services =
                [
                    GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, sims[0])),
                    new ServiceOptions
                    {
                        Name = "llama-chat",
                        Namespace = "default",
                        Models = ["llama"],
                        Pools = [GatewayFixture.Pool("on-prem", 0, 4, sims[1])],
                    },
                ],
            });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Theory]
    [InlineData("qwen", 0)]
    [InlineData("llama", 1)]
    public async Task HostIsAnAddress_TheModelPicksTheService(string model, int simulator)
    {
        // No Host override: the client sends 127.0.0.1:port, which names no service.
        using var http = _gateway.CreatePublicClient(host: null);

        using var response = await http.SendAsync(ChatRequest.Post(maxTokens: 2, model: model));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(model, body.RootElement.GetProperty("model").GetString());
        var other = 1 - simulator;
        Assert.Equal(1, await GatewayFixture.SampleAsync(
            _gateway.Simulators[simulator], $"vllm:request_success_total{{model_name=\"{Served[simulator]}\",finished_reason=\"length\"}}"));
        Assert.Equal(0, await GatewayFixture.SampleAsync(
            _gateway.Simulators[other], $"vllm:prompt_tokens_total{{model_name=\"{Served[other]}\"}}"));
    }

    [Fact]
    public async Task HostIsAnAddress_UnknownModel_Answers404()
    {
        using var http = _gateway.CreatePublicClient(host: null);

        using var response = await http.SendAsync(ChatRequest.Post(maxTokens: 2, model: "mistral"));

        var message = await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.NotFound, "invalid_request_error", "model_not_found", "model");
        Assert.Contains("'127.0.0.1'", message, StringComparison.Ordinal);
        Assert.Contains("'mistral'", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("qwen-chat-default.example.com", new[] { "qwen" })]
    [InlineData("llama-chat-default.example.com", new[] { "llama" })]
    [InlineData(null, new[] { "qwen", "llama" })]
    [InlineData("unknown.example.com", new[] { "qwen", "llama" })]
    public async Task Models_ListTheNamedServicesModels_OrAll(string? host, string[] expected)
    {
        using var http = _gateway.CreatePublicClient(host);

        using var response = await http.GetAsync("v1/models");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("list", body.RootElement.GetProperty("object").GetString());
        var models = body.RootElement.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(expected, models.Select(m => m.GetProperty("id").GetString()));
        Assert.All(models, m => Assert.Equal("model", m.GetProperty("object").GetString()));
        Assert.Equal(
            expected.Select(id => id == "qwen" ? "qwen-chat.default" : "llama-chat.default"),
            models.Select(m => m.GetProperty("owned_by").GetString()));
    }
}

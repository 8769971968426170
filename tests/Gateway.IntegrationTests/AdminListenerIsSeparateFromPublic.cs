using System.Net;
using System.Text.Json;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// Operators' routes (<c>/healthz</c>, <c>/readyz</c>, <c>/admin/status</c>) live only on the admin listener,
/// and the OpenAI API only on the public one: neither leaks onto the other's port.
/// </summary>
public sealed class AdminListenerIsSeparateFromPublic : IAsyncLifetime
{
    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await GatewayFixture.StartAsync(
            [],
            _ => new()
            {
                Services =
                [
                    GatewayFixture.QwenChat(
                        GatewayFixture.Pool("on-prem", 0, 4, ClosedPort.Address()),
                        GatewayFixture.Pool("cloud", 1, 2, ClosedPort.Address(), ClosedPort.Address())),
                ],
            });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Healthz_Answers200()
    {
        using var response = await _gateway.Admin.GetAsync("healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Readyz_WithStaticPools_Answers200()
    {
        using var response = await _gateway.Admin.GetAsync("readyz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ready\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Status_DescribesServicesPoolsAndReplicas()
    {
        using var document = JsonDocument.Parse(await _gateway.Admin.GetStringAsync("admin/status"));
        var root = document.RootElement;
        var service = Assert.Single(root.GetProperty("services").EnumerateArray());

        Assert.True(root.GetProperty("ready").GetBoolean());
        Assert.Equal("qwen-chat", service.GetProperty("name").GetString());
        Assert.Equal("SpillOver", service.GetProperty("balancing").GetString());
        Assert.Equal(0, service.GetProperty("queueDepth").GetInt32());
        Assert.Equal(
            [("critical", 0), ("standard", 0), ("sheddable", 0)],
            service.GetProperty("queueByClass").EnumerateObject().Select(c => (c.Name, c.Value.GetInt32())));
        var pools = service.GetProperty("pools").EnumerateArray().ToArray();
        Assert.Equal(["on-prem", "cloud"], pools.Select(p => p.GetProperty("name").GetString()));
        Assert.Equal([1, 2], pools.Select(p => p.GetProperty("readyReplicas").GetInt32()));
        var status = GatewayStatus.Read(root);
        Assert.Equal(["on-prem-1", "cloud-1", "cloud-2"], status.Replicas.Keys);
        Assert.All(status.Replicas.Values, r => Assert.Equal(("ready", 0, 0L), (r.State, r.InFlight, r.Served)));
        Assert.Equal(2, pools[1].GetProperty("replicas")[0].GetProperty("capacity").GetInt32());
    }

    [Theory]
    [InlineData("healthz")]
    [InlineData("readyz")]
    [InlineData("admin/status")]
    public async Task AdminRoutes_OnThePublicListener_Answer404InOpenAIShape(string path)
    {
        using var http = _gateway.CreatePublicClient();

        using var response = await http.GetAsync(path);

        await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.NotFound, "invalid_request_error", "unknown_url");
    }

    [Fact]
    public async Task Api_OnTheAdminListener_Answers404()
    {
        using var models = await _gateway.Admin.GetAsync("v1/models");
        using var chat = await _gateway.Admin.SendAsync(ChatRequest.Post(maxTokens: 1));

        Assert.Equal(HttpStatusCode.NotFound, models.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, chat.StatusCode);
    }
}

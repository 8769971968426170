using System.Net;
using System.Net.Http.Headers;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;
using Xunit.Abstractions;

namespace Gateway.IntegrationTests;

/// <summary>
/// An admin listener bound to every address (as in a pod) shows its status and dashboard only to a request with the
/// bearer token; the kubelet's probes and Prometheus's scrape still get in without one.
/// </summary>
public sealed class AdminListenerRequiresATokenOffLoopback(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Token = "integration-test-admin-token";
    private const string Unauthorized = "unauthorized: send Authorization: Bearer <admin token>\n";

    private readonly string _folder = Directory.CreateTempSubdirectory("admin-token-").FullName;
    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync() => _gateway = await StartAsync(protectMetrics: false);

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Theory]
    [InlineData("admin/status")]
    [InlineData("admin/history")]
    [InlineData("dashboard")]
    public async Task NoToken_Answers401WithABearerChallenge(string path)
    {
        using var response = await _gateway.Admin.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        output.WriteLine($"GET {_gateway.AdminAddress}{path} (no token) -> {(int)response.StatusCode} WWW-Authenticate: {response.Headers.WwwAuthenticate}; body: {body}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(["Bearer", "Basic"], response.Headers.WwwAuthenticate.Select(c => c.Scheme));
        Assert.Equal(Unauthorized, body);
        Assert.DoesNotContain(Token, body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("admin/status")]
    [InlineData("admin/history")]
    [InlineData("dashboard")]
    public async Task WrongToken_Answers401(string path)
    {
        using var response = await GetAsync(path, Token + "x");
        output.WriteLine($"GET {path} (wrong token) -> {(int)response.StatusCode}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(Unauthorized, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RightToken_ShowsStatusAndDashboard()
    {
        using var status = await GetAsync("admin/status", Token);
        using var dashboard = await GetAsync("dashboard", Token);
        output.WriteLine($"GET admin/status (right token) -> {(int)status.StatusCode}; GET dashboard (right token) -> {(int)dashboard.StatusCode}");

        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        Assert.Contains("\"qwen-chat\"", await status.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Equal("text/html", dashboard.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TokenAsBasicPassword_OpensTheDashboardAsABrowserWould()
    {
        var basic = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("admin:" + Token));
        using var request = new HttpRequestMessage(HttpMethod.Get, "dashboard") { Headers = { Authorization = new AuthenticationHeaderValue("Basic", basic) } };
        using var dashboard = await _gateway.Admin.SendAsync(request);
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "admin/status")
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Token + ":x"))) },
        };
        using var refused = await _gateway.Admin.SendAsync(wrong);

        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Theory]
    [InlineData("healthz", "ok\n")]
    [InlineData("readyz", "ready\n")]
    public async Task Probes_AnswerWithoutToken(string path, string expected)
    {
        using var response = await _gateway.Admin.GetAsync(path);
        output.WriteLine($"GET {path} (no token) -> {(int)response.StatusCode}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Metrics_AnswerWithoutTokenByDefault()
    {
        using var response = await _gateway.Admin.GetAsync("metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Metrics_WithProtectMetrics_AskForTheToken()
    {
        await using var gateway = await StartAsync(protectMetrics: true);

        using var anonymous = await gateway.Admin.GetAsync("metrics");
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", Token) } };
        using var authorized = await gateway.Admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
    }

    private async Task<GatewayFixture> StartAsync(bool protectMetrics)
    {
        var tokenFile = Path.Combine(_folder, protectMetrics ? "token-metrics" : "token");
        await File.WriteAllTextAsync(tokenFile, Token + "\n");
        return await GatewayFixture.StartAsync(
            [],
            _ => new()
            {
                Admin = new AdminOptions { TokenFile = tokenFile, ProtectMetrics = protectMetrics },
                Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, ClosedPort.Address()))],
            },
            adminUrl: "http://0.0.0.0:0");
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };
        return await _gateway.Admin.SendAsync(request);
    }
}

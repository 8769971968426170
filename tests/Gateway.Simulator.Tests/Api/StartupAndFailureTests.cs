using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Testing;

namespace Gateway.Simulator.Tests.Api;

/// <summary>A replica that is still loading, and one that fails on purpose, answer as vLLM's would.</summary>
public sealed class StartupAndFailureTests
{
    private static readonly object Body = new { model = "qwen", messages = new[] { new { role = "user", content = "Hi" } }, max_tokens = 1 };

    [Fact]
    public async Task StartupDuration_HealthAndApiAnswer503UntilLoaded()
    {
        // Long enough that a slow start on a loaded machine (JIT, a busy CI core) still finds it loading.
        await using var simulator = await SimulatorProcess.StartAsync("--startup-duration", "6");
        using var http = simulator.CreateHttpClient();

        using (var health = await http.GetAsync("health"))
        using (var completion = await http.PostAsJsonAsync("v1/chat/completions", Body))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, completion.StatusCode);
            using var error = JsonDocument.Parse(await completion.Content.ReadAsStringAsync());
            Assert.Equal("The model is still loading.", error.RootElement.GetProperty("error").GetProperty("message").GetString());
        }

        await Eventually.WaitAsync(async () => (await http.GetAsync("health")).StatusCode, s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "health 200");
        using var ready = await http.PostAsJsonAsync("v1/chat/completions", Body);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Theory]
    [InlineData("rate_limit", 429, "RateLimitError")]
    [InlineData("server_error", 500, "InternalServerError")]
    [InlineData("unavailable", 503, "ServiceUnavailableError")]
    [InlineData("invalid_api_key", 401, "AuthenticationError")]
    [InlineData("context_length", 400, "BadRequestError")]
    [InlineData("model_not_found", 404, "NotFoundError")]
    public async Task FailureInjection_AllRequests_FailWithTheChosenType(string type, int status, string errorType)
    {
        await using var simulator = await SimulatorProcess.StartAsync("--failure-injection-rate", "100", "--failure-types", type);
        using var http = simulator.CreateHttpClient();

        for (var i = 0; i < 3; i++)
        {
            using var response = await http.PostAsJsonAsync("v1/chat/completions", Body);
            using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal((HttpStatusCode)status, response.StatusCode);
            Assert.Equal(errorType, error.RootElement.GetProperty("error").GetProperty("type").GetString());
            Assert.Equal(status, error.RootElement.GetProperty("error").GetProperty("code").GetInt32());
        }
    }

    [Fact]
    public async Task FailureInjection_HalfRate_FailsSomeAndServesTheRest()
    {
        await using var simulator = await SimulatorProcess.StartAsync("--failure-injection-rate", "50", "--failure-types", "server_error", "--seed", "1");
        using var http = simulator.CreateHttpClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 40; i++)
        {
            using var response = await http.PostAsJsonAsync("v1/chat/completions", Body);
            statuses.Add(response.StatusCode);
        }

        Assert.InRange(statuses.Count(s => s == HttpStatusCode.InternalServerError), 8, 32);
        Assert.Equal(40, statuses.Count(s => s is HttpStatusCode.OK or HttpStatusCode.InternalServerError));
    }

    [Fact]
    public async Task FailureControl_Put100PercentUnavailable_ApiAnswers503WhileHealthStays200_UntilPutBackTo0()
    {
        await using var simulator = await SimulatorProcess.StartAsync("--failure-control");
        using var http = simulator.CreateHttpClient();
        using (var before = await http.PostAsJsonAsync("v1/chat/completions", Body))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using (var sick = await http.PutAsync("simulator/failure-injection", Json("""{"rate":100,"types":["unavailable"]}""")))
        {
            Assert.Equal(HttpStatusCode.OK, sick.StatusCode);
            Assert.Equal("""{"rate":100,"types":["unavailable"]}""", await sick.Content.ReadAsStringAsync());
        }

        for (var i = 0; i < 3; i++)
        {
            using var completion = await http.PostAsJsonAsync("v1/chat/completions", Body);
            using var error = JsonDocument.Parse(await completion.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.ServiceUnavailable, completion.StatusCode);
            Assert.Equal("ServiceUnavailableError", error.RootElement.GetProperty("error").GetProperty("type").GetString());

            // Sick, not dead: the health checks still see it up.
            using var health = await http.GetAsync("health");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        Assert.Equal("""{"rate":100,"types":["unavailable"]}""", await http.GetStringAsync("simulator/failure-injection"));

        using (var well = await http.PutAsync("simulator/failure-injection", Json("""{"rate":0}""")))
        {
            Assert.Equal(HttpStatusCode.OK, well.StatusCode);
        }

        using var after = await http.PostAsJsonAsync("v1/chat/completions", Body);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Theory]
    [InlineData("""{"types":["unavailable"]}""", "'rate' must be a number of percent, 0..100.", "rate")]
    [InlineData("""{"rate":101}""", "'rate' must be a number of percent, 0..100.", "rate")]
    [InlineData("""{"rate":"50"}""", "'rate' must be a number of percent, 0..100.", "rate")]
    [InlineData("""{"rate":50,"types":["meteor"]}""", "types: unknown failure type 'meteor' (known: rate_limit, invalid_api_key, context_length, server_error, invalid_request, model_not_found, unavailable)", "types")]
    [InlineData("""{"rate":50,"types":"unavailable"}""", "'types' must be an array of failure types: rate_limit, invalid_api_key, context_length, server_error, invalid_request, model_not_found, unavailable.", "types")]
    public async Task FailureControl_BadSettings_400NamesTheField_AndChangesNothing(string body, string message, string param)
    {
        await using var simulator = await SimulatorProcess.StartAsync("--failure-control", "--failure-injection-rate", "10", "--failure-types", "server_error");
        using var http = simulator.CreateHttpClient();

        using var response = await http.PutAsync("simulator/failure-injection", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(message, error.RootElement.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(param, error.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal("""{"rate":10,"types":["server_error"]}""", await http.GetStringAsync("simulator/failure-injection"));
    }

    [Fact]
    public async Task FailureControl_WithoutTheFlag_IsNotThere()
    {
        await using var simulator = await SimulatorProcess.StartAsync();
        using var http = simulator.CreateHttpClient();

        using var put = await http.PutAsync("simulator/failure-injection", Json("""{"rate":100}"""));
        using var completion = await http.PostAsJsonAsync("v1/chat/completions", Body);

        Assert.Equal(HttpStatusCode.NotFound, put.StatusCode);
        Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");
}

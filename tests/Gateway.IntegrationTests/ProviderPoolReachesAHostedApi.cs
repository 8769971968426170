using System.Diagnostics;
using System.Net;
using System.Text;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Providers.Hosted;
using Gateway.Tenancy;
using Gateway.Testing;
using OpenAI.Chat;

namespace Gateway.IntegrationTests;

/// <summary>
/// A provider pool (a hosted OpenAI-compatible API) as a client of the gateway sees it through the official SDK: the
/// provider gets its own name for the model and its own key, over TLS it validates; the client gets the service's model
/// name back, plain and streamed, never the provider's account headers, and the provider's errors in OpenAI's shape.
/// </summary>
public sealed class ProviderPoolReachesAHostedApi : IAsyncLifetime
{
    private const string ClientKey = "sk-client-of-the-gateway";
    private const string ProviderKey = "sk-provider-account-91c2";
    private const string ProviderModel = "qwen-plus-latest";

    private readonly string _folder = Directory.CreateTempSubdirectory("provider-key-").FullName;
    private TlsRecordingProvider _provider = null!;
    private string _keyFile = "";

    public async Task InitializeAsync()
    {
        _keyFile = Path.Combine(_folder, "provider-key");
        await File.WriteAllTextAsync(_keyFile, ProviderKey + "\n");
        _provider = await TlsRecordingProvider.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _provider.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task PlainAnswer_ProviderGetsItsModelNameAndKey_ClientGetsTheServicesName()
    {
        await using var gateway = await StartAsync(_provider.BaseUrl, _provider.CaFile);
        using var http = gateway.CreatePublicClient();
        var chat = gateway.CreateChatClient(http, ClientKey);

        var result = await chat.CompleteChatAsync([new UserChatMessage("Hi")]);

        var answer = result.Value;
        Assert.Equal(GatewayFixture.Model, answer.Model);

        // Text the model wrote that looks like the member is a JSON string's content, with its quotes escaped: left as it was.
        Assert.Equal($"Said \"model\": \"{ProviderModel}\" twice", answer.Content[0].Text);
        Assert.Equal((TlsRecordingProvider.PromptTokens, TlsRecordingProvider.CompletionTokens), (answer.Usage.InputTokenCount, answer.Usage.OutputTokenCount));
        var headers = result.GetRawResponse().Headers;
        Assert.False(headers.TryGetValue("x-ratelimit-remaining-requests", out _), "the provider's account limits reached the client");

        var (received, body) = Assert.Single(_provider.Requests);
        Assert.Equal(ProviderModel, body["model"]!.GetValue<string>());
        Assert.Equal("Bearer " + ProviderKey, received["Authorization"]);
        Assert.DoesNotContain(received, h => h.Value.Contains(ClientKey, StringComparison.Ordinal));
        Assert.DoesNotContain(ClientKey, body.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(ProviderKey, await gateway.Admin.GetStringAsync("admin/status"), StringComparison.Ordinal);
        Assert.DoesNotContain(ProviderKey, await gateway.Admin.GetStringAsync("metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StreamedAnswer_EveryEventNamesTheServicesModel_EvenWhenTheNameArrivesInTwoPieces()
    {
        await using var gateway = await StartAsync(_provider.BaseUrl, _provider.CaFile);
        using var http = gateway.CreatePublicClient();
        var chat = gateway.CreateChatClient(http, ClientKey);

        var text = new StringBuilder();
        var models = new List<string>();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Hi")]))
        {
            models.Add(update.Model);
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal("Hello from the provider", text.ToString());
        Assert.NotEmpty(models);
        Assert.All(models, m => Assert.Equal(GatewayFixture.Model, m));
        var (_, body) = Assert.Single(_provider.Requests);
        Assert.Equal(ProviderModel, body["model"]!.GetValue<string>());
        Assert.True(body["stream"]!.GetValue<bool>());
    }

    [Fact]
    public async Task ProvidersErrors_AreAnsweredInOpenAIsShape_AndItsRefusalOfTheGatewaysKeyIsNeverTheClients()
    {
        await using var gateway = await StartAsync(_provider.BaseUrl, _provider.CaFile);
        using var http = gateway.CreatePublicClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", ClientKey);

        _provider.Error = (400, """{"error":{"message":"Range of input length should be [1, 30720]","type":"invalid_request_error","code":"InvalidParameter"}}""");
        using (var rejected = await http.PostAsync("v1/chat/completions", ChatRequest.Body(4)))
        {
            var message = await OpenAIErrorAssert.IsAsync(rejected, HttpStatusCode.BadRequest, "invalid_request_error", "provider_rejected");
            Assert.Contains("Range of input length should be [1, 30720]", message, StringComparison.Ordinal);
        }

        _provider.Error = (401, """{"code":"InvalidApiKey","message":"Invalid API-key provided."}""");
        using (var refused = await http.PostAsync("v1/chat/completions", ChatRequest.Body(4)))
        {
            var message = await OpenAIErrorAssert.IsAsync(refused, HttpStatusCode.BadGateway, "server_error", "provider_auth_failed");
            Assert.DoesNotContain("Invalid API-key", message, StringComparison.Ordinal);
        }

        _provider.Error = (500, "<html>upstream exploded</html>");
        using (var failed = await http.PostAsync("v1/chat/completions", ChatRequest.Body(4)))
        {
            await OpenAIErrorAssert.IsAsync(failed, HttpStatusCode.BadGateway, "server_error", "provider_error");
        }
    }

    [Fact]
    public async Task ProviderWithACertificateNobodyTrusts_IsRefused_AndGetsNothing()
    {
        // No CaFile: the system's roots, which do not hold the provider's certificate.
        await using var gateway = await StartAsync(_provider.BaseUrl, caFile: null);
        using var http = gateway.CreatePublicClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", ClientKey);

        using var response = await http.PostAsync("v1/chat/completions", ChatRequest.Body(4));

        await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.BadGateway, "server_error", "upstream_unavailable");
        Assert.Empty(_provider.Requests);
    }

    [Fact]
    public async Task ProviderAnswers429WithRetryAfter_TheRequestIsSentAgainOnlyAfterThatWait_AndSucceeds()
    {
        // The simulator as the provider, over TLS, allowing one request a second: the second of two answers 429 with
        // Retry-After, and the provider client waits that long before it tries again.
        var certificate = StandInCertificate.Make(_folder, "simulator", "127.0.0.1");
        await using var simulator = await SimulatorProcess.StartAsync(
            "--ssl-certfile", certificate.CertFile, "--ssl-keyfile", certificate.KeyFile, "--api-key", ProviderKey,
            "--served-model-name", ProviderModel, "--max-requests-per-second", "1", "--time-to-first-token", "10", "--inter-token-latency", "1",
            "--default-max-tokens", "4");

        // One attempt again: had it not waited for the Retry-After, it would have met the same second's limit and failed.
        await using var gateway = await StartAsync(simulator.BaseAddress.ToString().TrimEnd('/') + "/v1", certificate.CertFile, maxRetries: 1);
        using var http = gateway.CreatePublicClient();
        var chat = gateway.CreateChatClient(http, ClientKey);

        var clock = Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
        {
            ChatCompletion answer = await chat.CompleteChatAsync([new UserChatMessage("Hi")]);
            return (answer.Model, Elapsed: clock.Elapsed);
        }));

        Assert.All(answers, a => Assert.Equal(GatewayFixture.Model, a.Model));
        var (first, second) = (answers.Min(a => a.Elapsed), answers.Max(a => a.Elapsed));
        Assert.True(second - first >= TimeSpan.FromMilliseconds(800),
            $"the second answer came {(second - first).TotalMilliseconds:0} ms after the first: the provider's Retry-After (1 s) was not waited for");
    }

    private Task<GatewayFixture> StartAsync(string baseUrl, string? caFile, int maxRetries = 2) =>
        GatewayFixture.StartAsync([], _ => new GatewayOptions
        {
            Auth = new AuthOptions { Mode = AuthMode.ApiKeys },
            Tenants = [new TenantOptions { Name = "chat", ApiKeyHashes = [TenantDirectory.Hash(ClientKey)] }],
            Services =
            [
                GatewayFixture.QwenChat(new PoolOptions
                {
                    Name = "hosted",
                    Role = PoolRole.Overflow,
                    Provider = new ProviderSourceOptions
                    {
                        BaseUrl = baseUrl,
                        CaFile = caFile,
                        ApiKeyFile = _keyFile,
                        ModelMap = { [GatewayFixture.Model] = ProviderModel },
                        MaxConcurrency = 4,
                        MaxRetries = maxRetries,
                    },
                }),
            ],
        });
}

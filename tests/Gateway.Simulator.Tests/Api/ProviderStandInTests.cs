using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gateway.Testing;

namespace Gateway.Simulator.Tests.Api;

/// <summary>
/// The simulator standing in for a hosted OpenAI-compatible API: a key (vLLM's <c>--api-key</c>), TLS (vLLM's
/// <c>--ssl-certfile</c> and <c>--ssl-keyfile</c>) and a request-rate limit answered 429 with <c>Retry-After</c>.
/// </summary>
public sealed class ProviderStandInTests
{
    private static readonly object Body = new { model = "qwen", messages = new[] { new { role = "user", content = "Hi" } }, max_tokens = 1 };

    [Fact]
    public async Task ApiKey_V1NeedsTheKey_HealthAndMetricsStayOpen()
    {
        await using var simulator = await SimulatorProcess.StartAsync("--api-key", "sk-provider-1");
        using var http = simulator.CreateHttpClient();

        using (var none = await http.PostAsJsonAsync("v1/chat/completions", Body))
        {
            await AssertErrorAsync(none, HttpStatusCode.Unauthorized, "AuthenticationError");
        }

        using (var wrong = await SendAsync(http, HttpMethod.Post, "v1/chat/completions", "sk-provider-2"))
        {
            await AssertErrorAsync(wrong, HttpStatusCode.Unauthorized, "AuthenticationError");
        }

        using (var models = await SendAsync(http, HttpMethod.Get, "v1/models", key: null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
        }

        using (var right = await SendAsync(http, HttpMethod.Post, "v1/chat/completions", "sk-provider-1"))
        {
            Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("metrics")).StatusCode);
    }

    [Fact]
    public async Task RequestRateLimit_OverTheRate_Answers429WithRetryAfter_ThenServesAgain()
    {
        await using var simulator = await SimulatorProcess.StartAsync("--max-requests-per-second", "2");
        using var http = simulator.CreateHttpClient();

        // Three at once: the window takes two whatever moment of the second they land in; a window ending between
        // them may let the third through, so keep sending until one is turned away (at most one more window).
        HttpResponseMessage? limited = null;
        var served = 0;
        for (var i = 0; i < 8 && limited is null; i++)
        {
            var response = await http.PostAsJsonAsync("v1/chat/completions", Body);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                served++;
                response.Dispose();
            }
        }

        Assert.NotNull(limited);
        using (limited)
        {
            Assert.True(served >= 2, $"only {served} served before the 429");
            Assert.Equal(TimeSpan.FromSeconds(1), limited.Headers.RetryAfter?.Delta);
            await AssertErrorAsync(limited, HttpStatusCode.TooManyRequests, "RateLimitError");
        }

        await Task.Delay(TimeSpan.FromSeconds(1.1));
        using var again = await http.PostAsJsonAsync("v1/chat/completions", Body);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Tls_ServesHttpsWithTheGivenCertificate_AndAClientThatDoesNotTrustItIsRefused()
    {
        var folder = Directory.CreateTempSubdirectory("sim-tls-");
        try
        {
            using var certificate = SelfSigned();
            var certFile = Path.Combine(folder.FullName, "cert.pem");
            var keyFile = Path.Combine(folder.FullName, "key.pem");
            await File.WriteAllTextAsync(certFile, certificate.ExportCertificatePem());
            using (var key = certificate.GetECDsaPrivateKey()!)
            {
                await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());
            }

            await using var simulator = await SimulatorProcess.StartAsync("--ssl-certfile", certFile, "--ssl-keyfile", keyFile);
            Assert.Equal("https", simulator.BaseAddress.Scheme);

            // A client that trusts exactly this certificate is served.
            using var trusting = new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == certificate.Thumbprint,
            };
            using (var http = new HttpClient(trusting) { BaseAddress = simulator.BaseAddress })
            {
                using var response = await http.PostAsJsonAsync("v1/chat/completions", Body);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            // One that validates as usual does not trust a self-signed certificate.
            using var strict = new HttpClient { BaseAddress = simulator.BaseAddress };
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => strict.GetAsync("health"));
            Assert.Equal(HttpRequestError.SecureConnectionError, refused.HttpRequestError);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Tls_UnreadableKeyFile_ExitsWithAnErrorNamingTheFlags()
    {
        using var process = SimulatorProcess.StartRaw("--port", "0", "--ssl-certfile", "/nonexistent/cert.pem", "--ssl-keyfile", "/nonexistent/key.pem");
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("cannot read --ssl-certfile /nonexistent/cert.pem or --ssl-keyfile /nonexistent/key.pem", error, StringComparison.Ordinal);
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string? key)
    {
        using var request = new HttpRequestMessage(method, path);
        if (method == HttpMethod.Post)
        {
            request.Content = JsonContent.Create(Body);
        }

        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return http.SendAsync(request);
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        Assert.Equal(status, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(type, error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal((int)status, error.RootElement.GetProperty("error").GetProperty("code").GetInt32());
    }
}

using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;
using OpenAI;
using OpenAI.Chat;

namespace Gateway.IntegrationTests;

/// <summary>
/// <c>config/examples/bridge.json</c> as the README runs it, the gateway a real process: it starts the stand-in provider
/// (the simulator over TLS, with a certificate and a key made at start), which joins its pool only once it answers; with
/// the on-prem replica full and the cloud GPUs 30 s from ready, the overflow is served by the stand-in after a short wait,
/// under the service's model name; and the stand-in stops with the gateway. Only the ports differ from the file.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class BridgeExampleServesOverflowFromItsStandInOverTls
{
    private const int BridgePool = 2;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task OnPremFullAndCloudBooting_TheOverflowIsServedByTheStandIn_UnderTheServicesModelName()
    {
        // Ephemeral ports, so the test runs beside the demo; the stand-in's must be fixed before it starts.
        var standInPort = ClosedPort.Address().Port;
        var standInUrl = $"https://127.0.0.1:{standInPort}/v1";
        await using var gateway = await GatewayProcess.StartAsync(
            "--config", GatewayProcess.ExampleConfigPath("bridge.json"),
            "--Gateway:PublicUrl=http://127.0.0.1:0",
            "--Gateway:AdminUrl=http://127.0.0.1:0",
            $"--Gateway:Services:0:Pools:{BridgePool}:Provider:BaseUrl={standInUrl}");
        using var admin = new HttpClient { BaseAddress = gateway.AdminAddress };
        await Eventually.WaitAsync(
            async () => (await admin.GetAsync("readyz")).StatusCode, s => s == HttpStatusCode.OK, Deadline, "the bridge example to be ready");
        var standIn = Replica(await admin.GetStringAsync("admin/status"), "provider-bridge");
        Assert.Equal("ready", standIn.GetProperty("state").GetString());
        var standInPid = standIn.GetProperty("pid").GetInt32();

        // The stand-in listens over TLS with a certificate only the gateway trusts, and wants a key the client never had.
        using (var systemTrust = new HttpClient())
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => systemTrust.GetAsync(standInUrl + "/models"));
        }

        using (var anyCertificate = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator }))
        {
            using var noKey = await anyCertificate.GetAsync(standInUrl + "/models");
            Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        }

        using var http = new HttpClient { BaseAddress = gateway.PublicAddress, Timeout = TimeSpan.FromSeconds(60) };
        var chat = new ChatClient("qwen", new ApiKeyCredential("not-checked"), new OpenAIClientOptions
        {
            Endpoint = new Uri(gateway.PublicAddress, "v1"),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });

        // Two long answers fill the on-prem replica (capacity 2): about 200 tokens at 30 ms, slower with both running.
        var clock = Stopwatch.StartNew();
        var onPrem = new[] { CompleteAsync(chat, 200, clock), CompleteAsync(chat, 200, clock) };
        await Eventually.WaitAsync(
            async () => Replica(await admin.GetStringAsync("admin/status"), "on-prem").GetProperty("inFlight").GetInt32(),
            inFlight => inFlight == 2,
            Deadline,
            "the on-prem replica to be full");

        // The third has nowhere to go but the queue: the cloud GPUs take 30 s to boot, so after 200 ms the bridge takes it.
        var overflow = await CompleteAsync(chat, 20, clock);
        var first = await Task.WhenAll(onPrem);

        Assert.Equal("qwen", overflow.Answer.Model);
        Assert.Equal(20, overflow.Answer.Usage.OutputTokenCount);
        Assert.All(first, a => Assert.Equal("qwen", a.Answer.Model));
        Assert.All(first, a => Assert.True(overflow.Done < a.Done, $"the overflow ({overflow.Done}) waited for on-prem ({a.Done})"));
        var status = await admin.GetStringAsync("admin/status");
        Assert.Equal(1, Replica(status, "provider-bridge").GetProperty("served").GetInt64());
        Assert.Equal(2, Replica(status, "on-prem").GetProperty("served").GetInt64());

        // The stand-in stops with the gateway.
        await gateway.SignalAsync("TERM");
        Assert.Equal(0, await gateway.WaitForExitAsync(Deadline));
        Assert.False(File.Exists($"/proc/{standInPid}/status") && !File.ReadAllText($"/proc/{standInPid}/status").Contains("State:\tZ", StringComparison.Ordinal),
            $"the stand-in (process {standInPid}) outlived the gateway:\n{gateway.Output}");
    }

    private static async Task<(ChatCompletion Answer, TimeSpan Done)> CompleteAsync(ChatClient chat, int maxTokens, Stopwatch clock)
    {
        ChatCompletion answer = await chat.CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = maxTokens });
        return (answer, clock.Elapsed);
    }

    /// <summary>The first replica of pool <paramref name="pool"/> in <c>/admin/status</c>.</summary>
    private static JsonElement Replica(string statusJson, string pool)
    {
        using var status = JsonDocument.Parse(statusJson);
        foreach (var candidate in status.RootElement.GetProperty("services")[0].GetProperty("pools").EnumerateArray())
        {
            if (candidate.GetProperty("name").GetString() == pool)
            {
                return candidate.GetProperty("replicas")[0].Clone();
            }
        }

        throw new InvalidOperationException($"no pool {pool} in {statusJson}");
    }
}

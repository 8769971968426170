using System.Net;
using System.Text.Json;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// SIGTERM (a rolling update, a scale-in) while answers stream: readiness fails at once, new requests get 503
/// with Retry-After, every stream already running finishes whole, then the gateway exits.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class DrainsInFlightStreamsOnShutdown : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-drain-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Sigterm_FinishesTenStreamsWholeAndTurnsNewRequestsAway()
    {
        // 20 tokens at 100 ms: each stream runs for about two seconds after the signal.
        await using var simulator = await SimulatorProcess.StartAsync("--max-num-seqs", "10", "--inter-token-latency", "100");
        await using var gateway = await GatewayProcess.StartDrainingAsync(simulator, _folder, drainTimeoutSeconds: 20);
        using var admin = new HttpClient { BaseAddress = gateway.AdminAddress };

        var streams = new List<StreamedAnswer>();
        for (var i = 0; i < 10; i++)
        {
            streams.Add(await StreamedAnswer.OpenAsync(gateway.PublicAddress, maxTokens: 20));
        }

        try
        {
            await gateway.SignalAsync("TERM");

            await Eventually.WaitAsync(
                async () => (await admin.GetAsync("readyz")).StatusCode, s => s == HttpStatusCode.ServiceUnavailable, Deadline, "/readyz to fail");
            using var client = new HttpClient { BaseAddress = gateway.PublicAddress };
            client.DefaultRequestHeaders.Host = GatewayFixture.ServiceHost;
            using var refused = await client.SendAsync(ChatRequest.Post(1));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("3", refused.Headers.GetValues("Retry-After").Single());

            // The client is told not to send on this connection again: the next request finds another gateway.
            Assert.True(refused.Headers.ConnectionClose, "no Connection: close on an answer given while draining");
            using var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Equal("shutting_down", error.RootElement.GetProperty("error").GetProperty("code").GetString());

            foreach (var stream in streams)
            {
                Assert.Equal(20, await CountTokensToDoneAsync(stream));
            }

            Assert.Equal(0, await gateway.WaitForExitAsync(Deadline));
        }
        finally
        {
            foreach (var stream in streams)
            {
                stream.Dispose();
            }
        }
    }

    /// <summary>Reads the rest of a stream (its first event, the role, was read on opening) and counts token events up to [DONE].</summary>
    private static async Task<int> CountTokensToDoneAsync(StreamedAnswer stream)
    {
        var tokens = 0;
        while (await stream.ReadLineAsync() is { } line)
        {
            if (line == "data: [DONE]")
            {
                return tokens;
            }

            if (line.StartsWith("data: ", StringComparison.Ordinal) && line.Contains("\"content\"", StringComparison.Ordinal))
            {
                tokens++;
            }
        }

        throw new InvalidOperationException($"the stream ended after {tokens} tokens without [DONE]");
    }
}

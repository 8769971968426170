using System.Net;
using System.Text.Json;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// SIGTERM while answers run longer than the drain timeout: once it is over the gateway ends them itself, a stream with
/// the <c>shutting_down</c> error event and <c>[DONE]</c> on a cleanly closed connection, a plain answer not started yet
/// with 503 <c>shutting_down</c>, and exits. Left to the host's own shutdown timeout, their connections would be cut
/// without a word (found by the chaos drill's sigterm phase).
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class DrainTimeoutEndsAnswersStillInFlight : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-drain-timeout-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Sigterm_AnswersOutlastingTheDrainTimeout_StreamsGetTheShuttingDownEvent_PlainOnesA503()
    {
        // 300 tokens at 100 ms: half a minute, far beyond the 1 s drain and the host's shutdown timeout after it (16 s).
        await using var simulator = await SimulatorProcess.StartAsync("--max-num-seqs", "10", "--inter-token-latency", "100");
        await using var gateway = await GatewayProcess.StartDrainingAsync(simulator, _folder, drainTimeoutSeconds: 1);
        using var admin = new HttpClient { BaseAddress = gateway.AdminAddress };
        using var client = new HttpClient { BaseAddress = gateway.PublicAddress, Timeout = Deadline };
        client.DefaultRequestHeaders.Host = GatewayFixture.ServiceHost;

        using var first = await StreamedAnswer.OpenAsync(gateway.PublicAddress, maxTokens: 300);
        using var second = await StreamedAnswer.OpenAsync(gateway.PublicAddress, maxTokens: 300);
        var plain = client.SendAsync(ChatRequest.Post(300));
        await Eventually.WaitAsync(
            async () => JsonDocument.Parse(await admin.GetStringAsync("admin/status")).RootElement.GetProperty("services")[0].GetProperty("inFlight").GetInt32(),
            n => n == 3,
            Deadline,
            "three answers in flight");

        await gateway.SignalAsync("TERM");

        foreach (var stream in new[] { first, second })
        {
            var events = await ReadToEndAsync(stream);
            Assert.Equal("[DONE]", events[^1]);
            using var error = JsonDocument.Parse(events[^2]);
            Assert.Equal("shutting_down", error.RootElement.GetProperty("error").GetProperty("code").GetString());
            Assert.All(events.Take(events.Count - 2), e => Assert.StartsWith("{\"id\":\"chatcmpl-", e, StringComparison.Ordinal));
        }

        using var answer = await plain;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
        Assert.Equal("3", answer.Headers.GetValues("Retry-After").Single());
        using var body = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        Assert.Equal("shutting_down", body.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(0, await gateway.WaitForExitAsync(Deadline));
        Assert.Contains("Drain timeout: 3 answers still in flight are ended", gateway.Output, StringComparison.Ordinal);
    }

    /// <summary>The stream's <c>data:</c> payloads to its end; an IOException (a cut connection) fails the test.</summary>
    private static async Task<List<string>> ReadToEndAsync(StreamedAnswer stream)
    {
        var events = new List<string>();
        while (await stream.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(line["data: ".Length..]);
            }
        }

        return events;
    }
}

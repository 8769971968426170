using System.Net;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;
using Xunit.Abstractions;

namespace Gateway.IntegrationTests;

/// <summary>
/// The on-prem replica's process is killed while five clients keep sending plain and streamed requests. Nothing
/// fails but the streams that were mid-answer on that replica, and those end with vLLM's error event and a clean
/// close rather than a cut connection; the gateway takes the replica out at once, serves everything from the cloud,
/// and lets the replica back in by itself once it runs again at its address.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class SurvivesTheDeathOfAReplica(ITestOutputHelper output)
{
    private const string Finished = "vllm:request_success_total{model_name=\"qwen\",finished_reason=\"length\"}";

    // 20 ms a token: a 10-token answer takes about 0.2 s, so the loop keeps every on-prem slot busy.
    private static readonly string[] Replica = ["--inter-token-latency", "20", "--max-num-seqs", "8"];

    private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task OnPremKilledUnderAClosedLoop_OnlyItsStreamsMidAnswerEndWithAnErrorEvent_AndItRejoinsOnceRestarted()
    {
        await using var gateway = await GatewayFixture.StartAsync(
            [Replica, Replica],
            sims =>
            {
                var onPrem = GatewayFixture.Pool("on-prem", 0, 4, sims[0]);
                onPrem.Health = new HealthOptions
                {
                    ProbeIntervalSeconds = ProbeInterval.TotalSeconds,
                    ProbeTimeoutSeconds = 1,
                    UnhealthyAfterFailures = 2,
                    MaxBackoffSeconds = 2,
                };
                return new GatewayOptions { Services = [GatewayFixture.QwenChat(onPrem, GatewayFixture.Pool("cloud", 1, 8, sims[1]))] };
            });
        var onPremPort = gateway.Simulators[0].BaseAddress.Port;

        // The first request goes on-prem (priority 0): a long stream that is mid-answer when the replica dies.
        using var doomed = await StreamedAnswer.OpenAsync(gateway.PublicAddress, maxTokens: 2000);
        Assert.Equal(1, (await gateway.StatusAsync())["on-prem-1"].InFlight);

        await using var loop = ClosedLoop.Start(gateway, clients: 5);
        await Eventually.WaitAsync(() => Task.FromResult(loop.Completed), n => n >= 20, TimeSpan.FromSeconds(20), "the loop under way");
        Assert.Equal(4, (await gateway.StatusAsync())["on-prem-1"].InFlight);

        await gateway.Simulators[0].KillAsync();

        // Requests that fail on the dead replica take it out at once; the probes alone would within two intervals.
        await Eventually.WaitAsync(gateway.StatusAsync, s => !s["on-prem-1"].Healthy, ProbeInterval * 2.5, "on-prem marked unhealthy");
        var doomedEvents = await ReadDataAsync(doomed);
        AssertEndsWithErrorEvent(doomedEvents, "the long stream");
        Assert.True(doomedEvents.Count > 3, $"the long stream had only {doomedEvents.Count} events: it was not mid-answer");

        // A while with on-prem down: everything is served by the cloud.
        var cloudServed = (await gateway.StatusAsync())["cloud-1"].Served;
        await Eventually.WaitAsync(gateway.StatusAsync, s => s["cloud-1"].Served >= cloudServed + 20, TimeSpan.FromSeconds(20), "the cloud serving the loop");
        Assert.False((await gateway.StatusAsync())["on-prem-1"].Healthy);

        // The replica runs again at its address: the probes find it and placement fills it first again.
        await using var restarted = await SimulatorProcess.StartOnPortAsync(onPremPort, Replica);
        var back = await Eventually.WaitAsync(gateway.StatusAsync, s => s["on-prem-1"].Healthy, TimeSpan.FromSeconds(15), "on-prem healthy again");
        await Eventually.WaitAsync(
            gateway.StatusAsync, s => s["on-prem-1"].Served >= back["on-prem-1"].Served + 5, TimeSpan.FromSeconds(10), "on-prem serving again");
        await Eventually.WaitAsync(() => GatewayFixture.SampleAsync(restarted, Finished), n => n >= 5, TimeSpan.FromSeconds(10), "answers from the restarted replica");

        var results = await loop.StopAsync();
        output.WriteLine(
            $"{results.Count} requests: {results.Count(r => r.Ok && r.Streamed)} streamed and {results.Count(r => r.Ok && !r.Streamed)} plain answered whole, {results.Count(r => !r.Ok)} cut");

        Assert.True(results.Count(r => r.Ok && r.Streamed) >= 20, $"{results.Count(r => r.Ok && r.Streamed)} streamed successes");
        Assert.True(results.Count(r => r.Ok && !r.Streamed) >= 20, $"{results.Count(r => r.Ok && !r.Streamed)} plain successes");
        foreach (var failed in results.Where(r => !r.Ok))
        {
            // The only failures allowed: streams cut mid-answer by the death, each closed by the error event.
            Assert.True(failed.Streamed, $"a plain request failed: {failed.Detail}");
            AssertEndsWithErrorEvent(failed.Events, failed.Detail);
        }

        var status = await gateway.StatusAsync();
        Assert.Equal((0, 0), (status["on-prem-1"].InFlight, status["cloud-1"].InFlight));
        Assert.True(status["cloud-1"].Healthy);
    }

    /// <summary>A stream ended by the gateway after its replica died: tokens, then the error object, then <c>[DONE]</c>, then the end.</summary>
    private static void AssertEndsWithErrorEvent(IReadOnlyList<string> events, string what)
    {
        Assert.True(events.Count >= 3, $"{what}: {string.Join(" | ", events)}");
        Assert.Equal("[DONE]", events[^1]);
        using var error = JsonDocument.Parse(events[^2]);
        Assert.Equal(["error"], error.RootElement.EnumerateObject().Select(p => p.Name));
        var body = error.RootElement.GetProperty("error");
        Assert.Equal(["message", "type", "param", "code"], body.EnumerateObject().Select(p => p.Name));
        // The gateway's request id ends every error message it writes.
        Assert.Matches(@"^Replica on-prem-1 stopped answering in the middle of the stream\. \(request id [0-9a-f]{32}\)$", body.GetProperty("message").GetString());
        Assert.Equal("server_error", body.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("param").ValueKind);
        Assert.Equal("upstream_disconnected", body.GetProperty("code").GetString());

        // Everything before it was a chunk of the answer.
        Assert.All(events.Take(events.Count - 2), e => Assert.StartsWith("{\"id\":\"chatcmpl-", e, StringComparison.Ordinal));
    }

    private static async Task<List<string>> ReadDataAsync(StreamedAnswer stream)
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

    private static List<string> Data(string body) =>
        [.. body.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => l["data: ".Length..])];

    /// <param name="Streamed">Whether the request asked for a stream.</param>
    /// <param name="Ok">A whole answer: 200, and a finished completion (a plain body, or a stream through to <c>[DONE]</c>).</param>
    /// <param name="Events">A stream's <c>data:</c> payloads.</param>
    /// <param name="Detail">What came back, for failure messages.</param>
    private sealed record Outcome(bool Streamed, bool Ok, IReadOnlyList<string> Events, string Detail);

    /// <summary>Clients that each send one request after another, plain and streamed in turn, until stopped.</summary>
    private sealed class ClosedLoop : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Outcome> _outcomes = [];
        private readonly Task[] _clients;

        private ClosedLoop(GatewayFixture gateway, int clients)
        {
            _clients = [.. Enumerable.Range(0, clients).Select(c => Task.Run(() => RunClientAsync(gateway, c)))];
        }

        public int Completed
        {
            get
            {
                lock (_outcomes)
                {
                    return _outcomes.Count;
                }
            }
        }

        public static ClosedLoop Start(GatewayFixture gateway, int clients) => new(gateway, clients);

        /// <summary>Lets every client finish the request it is in, then returns every outcome.</summary>
        public async Task<IReadOnlyList<Outcome>> StopAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_clients);
            lock (_outcomes)
            {
                return [.. _outcomes];
            }
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            _stop.Dispose();
        }

        private async Task RunClientAsync(GatewayFixture gateway, int client)
        {
            using var http = gateway.CreatePublicClient();
            for (var i = client; !_stop.IsCancellationRequested; i++)
            {
                var outcome = await SendAsync(http, streamed: i % 2 == 0);
                lock (_outcomes)
                {
                    _outcomes.Add(outcome);
                }
            }
        }

        private static async Task<Outcome> SendAsync(HttpClient http, bool streamed)
        {
            try
            {
                using var response = await http.SendAsync(ChatRequest.Post(maxTokens: 10, stream: streamed));
                var body = await response.Content.ReadAsStringAsync();
                var detail = $"{(streamed ? "stream" : "plain")} {(int)response.StatusCode}: {body}";
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    return new Outcome(streamed, false, [], detail);
                }

                if (!streamed)
                {
                    using var json = JsonDocument.Parse(body);
                    var finish = json.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString();
                    return new Outcome(streamed, finish == "length", [], detail);
                }

                var events = Data(body);
                var whole = events is [.., var usage, "[DONE]"] && usage.Contains("\"usage\":{", StringComparison.Ordinal)
                    && events.Exists(e => e.Contains("\"finish_reason\":\"length\"", StringComparison.Ordinal));
                return new Outcome(streamed, whole, events, detail);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException or TaskCanceledException)
            {
                return new Outcome(streamed, false, [], $"{(streamed ? "stream" : "plain")}: {e.GetType().Name}: {e.Message}");
            }
        }
    }
}

using System.Diagnostics;
using System.Net;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// A replica that accepts a request but sends nothing within the first-byte timeout: the client gets a 504,
/// the replica's request is cancelled, and the request is not tried elsewhere (the replica had it).
/// </summary>
public sealed class SilentReplicaAnswers504
{
    private const string Aborted = "vllm:request_success_total{model_name=\"qwen\",finished_reason=\"abort\"}";
    private const string Finished = "vllm:request_success_total{model_name=\"qwen\",finished_reason=\"length\"}";

    /// <summary>Two warmed on-prem replicas that take three seconds to a first token, behind a 0.5 s first-byte timeout.</summary>
    private static async Task<GatewayFixture> StartTwoSlowReplicasAsync()
    {
        var gateway = await GatewayFixture.StartAsync(
            [["--time-to-first-token", "3000"], ["--time-to-first-token", "3000"]],
            sims =>
            {
                var options = new GatewayOptions { Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, sims[0], sims[1]))] };
                options.Forwarding.FirstByteTimeoutSeconds = 0.5;
                return options;
            });
        foreach (var simulator in gateway.Simulators)
        {
            await WarmUpAsync(simulator);
        }

        return gateway;
    }

    [Fact]
    public async Task NoFirstByteInTime_Answers504_CancelsTheReplicasRequest_AndDoesNotRetry()
    {
        // Three seconds to the first token; the gateway waits half a second.
        await using var gateway = await StartTwoSlowReplicasAsync();

        using var http = gateway.CreatePublicClient();
        var clock = Stopwatch.StartNew();
        using var response = await http.SendAsync(ChatRequest.Post(maxTokens: 2));
        var answeredAfter = clock.Elapsed;

        var message = await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.GatewayTimeout, "server_error", "upstream_timeout");
        Assert.Matches("^Replica on-prem-[12] sent no answer in time.$", message);
        Assert.InRange(answeredAfter, TimeSpan.FromSeconds(0.45), TimeSpan.FromSeconds(2.5));
        var status = await gateway.StatusAsync();
        Assert.Equal(1L, status["on-prem-1"].Served + status["on-prem-2"].Served);
        Assert.Equal((0, 0), (status["on-prem-1"].InFlight, status["on-prem-2"].InFlight));

        // One replica had the request and dropped it (an abort, long before its three seconds were up); the other never saw it.
        var aborts = await Eventually.WaitAsync(
            () => SumAsync(gateway, Aborted), n => n == 3, TimeSpan.FromSeconds(2), "one abort besides the two warm-ups");
        Assert.Equal(3, aborts);
        Assert.Equal(0, await SumAsync(gateway, Finished));
    }

    [Fact]
    public async Task NoFirstEventInTime_StreamedRequest_Answers504_AndDoesNotRetry()
    {
        // A streamed answer's headers come at once; its first event would come after three seconds.
        await using var gateway = await StartTwoSlowReplicasAsync();

        using var http = gateway.CreatePublicClient();
        var clock = Stopwatch.StartNew();
        using var response = await http.SendAsync(ChatRequest.Post(maxTokens: 2, stream: true));
        var answeredAfter = clock.Elapsed;

        var message = await OpenAIErrorAssert.IsAsync(response, HttpStatusCode.GatewayTimeout, "server_error", "upstream_timeout");
        Assert.Matches("^Replica on-prem-[12] sent no answer in time.$", message);
        Assert.InRange(answeredAfter, TimeSpan.FromSeconds(0.45), TimeSpan.FromSeconds(2.5));
        var status = await gateway.StatusAsync();
        Assert.Equal(1L, status["on-prem-1"].Served + status["on-prem-2"].Served);
        Assert.Equal((0, 0), (status["on-prem-1"].InFlight, status["on-prem-2"].InFlight));
        var aborts = await Eventually.WaitAsync(
            () => SumAsync(gateway, Aborted), n => n == 3, TimeSpan.FromSeconds(2), "one abort besides the two warm-ups");
        Assert.Equal(3, aborts);
    }

    /// <summary>
    /// A cold simulator takes longer than the half-second timeout just to read its first request, which would
    /// end this test before the replica ever had the request. A dropped stream warms it: its headers come at once.
    /// </summary>
    private static async Task WarmUpAsync(SimulatorProcess simulator)
    {
        // No draining of the dropped answer: the connection closes when the response is disposed.
        var handler = new SocketsHttpHandler { MaxResponseDrainSize = 0, ResponseDrainTimeout = TimeSpan.Zero };
        using (var client = new HttpClient(handler) { BaseAddress = simulator.BaseAddress })
        using (var warmUp = await client.SendAsync(ChatRequest.Post(maxTokens: 1, stream: true), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, warmUp.StatusCode);
        }

        await Eventually.WaitAsync(() => GatewayFixture.SampleAsync(simulator, Aborted), n => n == 1, TimeSpan.FromSeconds(5), "the warm-up to be dropped");
    }

    private static async Task<double> SumAsync(GatewayFixture gateway, string sample)
    {
        var sum = 0.0;
        foreach (var simulator in gateway.Simulators)
        {
            sum += await GatewayFixture.SampleAsync(simulator, sample);
        }

        return sum;
    }
}

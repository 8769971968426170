using System.Net;
using Gateway.IntegrationTests.Support;

namespace Gateway.IntegrationTests;

/// <summary>
/// Tiered spill-over: requests go on-prem while an on-prem replica has a free slot; only the overflow goes
/// to the cloud. Both simulators run four sequences (<c>--max-num-seqs 4</c>), as the pools' capacity says.
/// </summary>
public sealed class SpillsToCloudWhenOnPremIsFull : IAsyncLifetime
{
    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await GatewayFixture.StartAsync(
            [
                ["--max-num-seqs", "4", "--inter-token-latency", "20"],
                ["--max-num-seqs", "4", "--inter-token-latency", "20"],
            ],
            sims => new()
            {
                Services =
                [
                    GatewayFixture.QwenChat(
                        GatewayFixture.Pool("on-prem", 0, 4, sims[0]),
                        GatewayFixture.Pool("cloud", 1, 4, sims[1])),
                ],
            });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private Task<(double Running, double Waiting)> OnPremLoad() => GatewayFixture.LoadAsync(_gateway.Simulators[0]);

    private Task<(double Running, double Waiting)> CloudLoad() => GatewayFixture.LoadAsync(_gateway.Simulators[1]);

    [Fact]
    public async Task FourLongRequests_FillOnPrem_AndTheFifthLandsInTheCloud()
    {
        var answers = new List<StreamedAnswer>();
        try
        {
            // 1,000 tokens at 20 ms: each request holds its slot for 20 s unless dropped.
            answers.AddRange(await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => StreamedAnswer.OpenAsync(_gateway.PublicAddress, maxTokens: 1000))));

            var status = await _gateway.StatusAsync();
            Assert.Equal((4L, 4), (status["on-prem-1"].Served, status["on-prem-1"].InFlight));
            Assert.Equal((0L, 0), (status["cloud-1"].Served, status["cloud-1"].InFlight));
            Assert.Equal((4, 0), await OnPremLoad());
            Assert.Equal((0, 0), await CloudLoad());

            answers.Add(await StreamedAnswer.OpenAsync(_gateway.PublicAddress, maxTokens: 1000));

            status = await _gateway.StatusAsync();
            Assert.Equal((4L, 4), (status["on-prem-1"].Served, status["on-prem-1"].InFlight));
            Assert.Equal((1L, 1), (status["cloud-1"].Served, status["cloud-1"].InFlight));
            Assert.Equal((4, 0), await OnPremLoad());
            Assert.Equal((1, 0), await CloudLoad());
        }
        finally
        {
            answers.ForEach(a => a.Dispose());
        }
    }

    [Fact]
    public async Task ThreeAtATime_NeverLandInTheCloud()
    {
        using var http = _gateway.CreatePublicClient();

        for (var round = 0; round < 5; round++)
        {
            // Ten tokens at 20 ms: the three of a round overlap on the replica.
            var responses = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => http.SendAsync(ChatRequest.Post(maxTokens: 10))));
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
            Array.ForEach(responses, r => r.Dispose());
        }

        var status = await _gateway.StatusAsync();
        Assert.Equal(15L, status["on-prem-1"].Served);
        Assert.InRange(status["on-prem-1"].PeakInFlight, 1, 3);
        Assert.Equal((0L, 0), (status["cloud-1"].Served, status["cloud-1"].PeakInFlight));
        Assert.Equal(15, await GatewayFixture.SampleAsync(_gateway.Simulators[0], "vllm:request_success_total{model_name=\"qwen\",finished_reason=\"length\"}"));
        Assert.Equal(0, await GatewayFixture.SampleAsync(_gateway.Simulators[1], "vllm:prompt_tokens_total{model_name=\"qwen\"}"));
    }
}

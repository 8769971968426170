using Gateway.Requests;
using Gateway.Configuration;

namespace Gateway.Planning.Tests.Synthetic;

public sealed class SyntheticWorkloadsTests
{
    [Fact]
    public void Create_SeedPeak_IsFiveClientsForTwoMinutesSendingTheDemoRequest()
    {
        var workload = Assert.IsType<ClosedLoopWorkload>(SyntheticWorkloads.Create("seed-peak"));

        Assert.Equal(5, workload.Clients);
        Assert.Equal(TimeSpan.FromMinutes(2), workload.Duration);
        Assert.Equal(TimeSpan.Zero, workload.ThinkTime);
        Assert.Equal(new TraceRequest(TimeSpan.Zero, null, null, PriorityClass.Standard, RequestKind.Chat, 8, 10, 10, false), workload.Template);
    }

    [Fact]
    public void Create_SeedPeakWithKeys_ChangesWhatTheyName()
    {
        var workload = Assert.IsType<ClosedLoopWorkload>(SyntheticWorkloads.Create("SEED-PEAK:clients=8,minutes=0.5,stream=true,think_ms=250"));

        Assert.Equal((8, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(250), true), (workload.Clients, workload.Duration, workload.ThinkTime, workload.Template.Stream));
    }

    [Theory]
    [InlineData("poisson")]
    [InlineData("diurnal")]
    [InlineData("bursty")]
    public void Create_OpenLoop_IsTheSameForTheSameSeedAndDiffersForAnother(string name)
    {
        var first = Requests(name + ":seed=7");
        var again = Requests(name + ":seed=7");
        var other = Requests(name + ":seed=8");

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Create_OtherSizes_KeepTheArrivalTimes()
    {
        var small = Requests("bursty:seed=3,prompt_median=10");
        var large = Requests("bursty:seed=3,prompt_median=1000,max_tokens=128");

        Assert.Equal(small.Select(r => r.ArrivalOffset), large.Select(r => r.ArrivalOffset));
    }

    [Fact]
    public void Create_Poisson_ArrivesAtItsRateWithinItsDuration()
    {
        // 20 minutes at 2 req/s: 2400 expected, standard deviation 49; 5 of them either side.
        var requests = Requests("poisson:minutes=20,rate=2,seed=11");

        Assert.InRange(requests.Count, 2400 - 245, 2400 + 245);
        Assert.True(requests[^1].ArrivalOffset < TimeSpan.FromMinutes(20));
    }

    [Fact]
    public void Create_Diurnal_IsBusiestMidTraceAndQuietAtItsEnds()
    {
        // One day over 30 minutes: the middle tenth is near the peak (2 req/s), the first tenth near the trough (0.2).
        var requests = Requests("diurnal:minutes=30");
        var first = requests.Count(r => r.ArrivalOffset < TimeSpan.FromMinutes(3));
        var middle = requests.Count(r => r.ArrivalOffset >= TimeSpan.FromMinutes(13.5) && r.ArrivalOffset < TimeSpan.FromMinutes(16.5));

        // Expected: first tenth ≈ 180 s × 0.24 ≈ 43; middle ≈ 180 s × 1.96 ≈ 353.
        Assert.InRange(first, 15, 80);
        Assert.InRange(middle, 290, 420);
    }

    [Fact]
    public void Rate_Diurnal_RunsFromTroughToPeakAndBack()
    {
        Assert.Equal(0.2, DiurnalGenerator.Rate(0, 0.2, 2, 100), 12);
        Assert.Equal(1.1, DiurnalGenerator.Rate(25, 0.2, 2, 100), 12);
        Assert.Equal(2, DiurnalGenerator.Rate(50, 0.2, 2, 100), 12);
        Assert.Equal(0.2, DiurnalGenerator.Rate(100, 0.2, 2, 100), 12);
    }

    [Fact]
    public void Create_BurstyWithNoCalmTraffic_ArrivesOnlyInBursts()
    {
        // Calm spells of 10 minutes on average, bursts of 2 s at 50 req/s: the arrivals come in clumps.
        var requests = Requests("bursty:minutes=60,rate=0,burst_rate=50,burst_seconds=2,calm_seconds=600,seed=5");
        var longGaps = 0;
        for (var i = 1; i < requests.Count; i++)
        {
            longGaps += requests[i].ArrivalOffset - requests[i - 1].ArrivalOffset > TimeSpan.FromSeconds(30) ? 1 : 0;
        }

        Assert.NotEmpty(requests);
        Assert.InRange(longGaps, 1, 20);
        Assert.True(requests.Count > 20 * (longGaps + 1) / 2, $"{requests.Count} arrivals in {longGaps + 1} clumps");
    }

    [Fact]
    public void Create_BurstyDefaults_SometimesOverflowOnPremOfTheDemoFleet()
    {
        // Each request as the demo's replica serves it alone, which underestimates a full batch (up to 1.5× slower):
        // 200 ms + 0.5 ms a prompt token to the first token, then 30 ms a token.
        var requests = Requests("bursty");
        var intervals = requests.Select(r =>
        {
            var start = r.ArrivalOffset.TotalSeconds;
            return new DemandInterval(start, start + 0.2 + (0.0005 * r.PromptTokens) + (0.03 * r.CompletionTokens));
        }).ToArray();

        var oracle = ClairvoyantOracle.Compute(intervals, new OracleFleet(OnPremSlots: 2, SlotsPerReplica: 2, BootSeconds: 5, MaxReplicas: 2));
        var rate = requests.Count / 1800.0;

        Assert.InRange(rate, 1.0, 2.0);
        Assert.InRange(requests.Average(r => r.CompletionTokens), 30, 45);

        // On-prem alone suffices most of the time; a first cloud replica is needed for a tenth to a half of the 30
        // minutes (mostly the bursts), a second for less, and the bursts' crests exceed even the whole fleet.
        Assert.Equal(2, oracle.Levels.Count);
        Assert.InRange(oracle.Levels[0].BusySeconds, 180, 900);
        Assert.InRange(oracle.Levels[1].BusySeconds, 30, oracle.Levels[0].BusySeconds / 2);
        Assert.True(oracle.UnservedRequestSeconds > 0);
    }

    [Fact]
    public void Create_Sizes_FollowTheShape()
    {
        var requests = Requests("poisson:minutes=60,rate=3,prompt_median=200,prompt_sigma=1.5,prompt_max=1000,max_tokens=5/7,stream_share=0.25");
        var prompts = requests.Select(r => r.PromptTokens).Order().ToArray();
        var streamed = requests.Count(r => r.Stream) / (double)requests.Count;

        Assert.InRange(prompts[prompts.Length / 2], 180, 220);
        Assert.Equal(1000, prompts[^1]);
        Assert.True(prompts[0] >= 1);
        Assert.All(requests, r => Assert.Contains(r.MaxTokens!.Value, new[] { 5, 7 }));
        Assert.All(requests, r => Assert.Equal(r.MaxTokens, r.CompletionTokens));
        Assert.InRange(streamed, 0.22, 0.28);
    }

    [Fact]
    public void All_HaveHelpNamingTheirKeys()
    {
        Assert.All(SyntheticWorkloads.All, g => Assert.Contains("minutes=", g.Help, StringComparison.Ordinal));
    }

    private static IReadOnlyList<TraceRequest> Requests(string spec) =>
        Assert.IsType<OpenLoopWorkload>(SyntheticWorkloads.Create(spec)).Requests;
}

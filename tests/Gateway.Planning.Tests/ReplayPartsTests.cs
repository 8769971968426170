using Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Planning.Tests;

public sealed class ReplayPartsTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void VirtualClock_FiresTimersInDueOrder_JumpsToEach_AndRepeatsPeriodicOnes()
    {
        var clock = new VirtualClock(Start);
        var fired = new List<(string Name, TimeSpan At)>();
        using var late = clock.CreateTimer(_ => fired.Add(("late", clock.Elapsed)), null, TimeSpan.FromSeconds(3), Timeout.InfiniteTimeSpan);
        using var early = clock.CreateTimer(_ => fired.Add(("early", clock.Elapsed)), null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        using var tick = clock.CreateTimer(_ => fired.Add(("tick", clock.Elapsed)), null, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2));

        while (clock.FireNext(TimeSpan.FromSeconds(6)))
        {
        }

        Assert.Equal(
            [("early", TimeSpan.FromSeconds(1)), ("tick", TimeSpan.FromSeconds(2)), ("late", TimeSpan.FromSeconds(3)), ("tick", TimeSpan.FromSeconds(4)), ("tick", TimeSpan.FromSeconds(6))],
            fired);
        Assert.Equal(Start + TimeSpan.FromSeconds(6), clock.GetUtcNow());
    }

    [Fact]
    public void VirtualClock_ChangedOrDisposedTimer_DoesNotFireItsOldDueTime()
    {
        var clock = new VirtualClock(Start);
        var fired = new List<string>();
        var moved = clock.CreateTimer(_ => fired.Add("moved"), null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        var gone = clock.CreateTimer(_ => fired.Add("gone"), null, TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan);
        moved.Change(TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
        gone.Dispose();

        Assert.Equal(TimeSpan.FromSeconds(5), clock.NextDue);
        Assert.True(clock.FireNext(TimeSpan.MaxValue));
        Assert.False(clock.FireNext(TimeSpan.MaxValue));
        Assert.Equal(["moved"], fired);
        moved.Dispose();
    }

    [Fact]
    public void ReplicaModel_FromThePoolsSimulatorFlags_TimesAsTheSimulatorDoes_AndBootsAfterItsStartUp()
    {
        var pool = new PoolOptions
        {
            Name = "cloud",
            Process = new ProcessSourceOptions
            {
                Command = "dotnet",
                Arguments = ["{appdir}/Gateway.Simulator.dll", "--port", "{port}", "--max-num-seqs", "3", "--time-to-first-token", "200",
                    "--prefill-time-per-token", "1", "--inter-token-latency", "30", "--time-factor-under-load", "2", "--startup-duration", "5"],
            },
        };

        var model = ReplicaModel.For(pool, null, TimeSpan.FromSeconds(0.5));

        Assert.Equal(TimeSpan.FromSeconds(5.5), model.Boot);
        Assert.Equal(TimeSpan.FromMilliseconds(300), model.TimeToFirstToken(100, 1));
        Assert.Equal(TimeSpan.FromMilliseconds(30), model.InterTokenLatency(1));
        Assert.Equal(TimeSpan.FromMilliseconds(45), model.InterTokenLatency(2));
        Assert.Equal(TimeSpan.FromMilliseconds(60), model.InterTokenLatency(3));
    }

    [Fact]
    public void ReplicaModel_BadFlags_NameThePool()
    {
        var pool = new PoolOptions { Name = "on-prem", Static = ["http://10.0.0.1:8000"] };

        var error = Assert.Throws<PlanningException>(() => ReplicaModel.For(pool, ["--inter-token-latency", "fast"], TimeSpan.Zero));

        Assert.StartsWith("pool 'on-prem': its simulator flags do not parse: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HistogramQuantile_InterpolatesInsideTheBucket_AsHistogramQuantileDoes()
    {
        // 100 values: 90 at 0.2 s, 10 at 2 s; buckets 0.25, 0.5, 1, 2.5. The p99 (rank 99) is 9/10 of the way into (1, 2.5].
        var values = Enumerable.Repeat(0.2, 90).Concat(Enumerable.Repeat(2.0, 10)).ToList();

        Assert.Equal(1 + (1.5 * 0.9), ReplayRecorder.HistogramQuantile(values, [0.25, 0.5, 1, 2.5], 0.99), 9);
        Assert.Equal(2.0, ReplayRecorder.Percentile(values, 0.99));
        Assert.Equal(0, ReplayRecorder.HistogramQuantile([], [1], 0.99));
    }

    [Fact]
    public void Frontier_KeepsOnlyPlansNoOtherBeatsOnBoth_CheapestFirst()
    {
        var frontier = FrontierPicture.Frontier([("a", 4, 30), ("b", 3, 20), ("c", 5, 5), ("d", 4.5, 25), ("e", 3.5, 7)]);

        Assert.Equal(["b", "e", "c"], frontier.Select(p => p.Label));
    }

    [Fact]
    public void SweepPoints_EveryCombination_FirstAxisSlowest_LabelledByWhatVaries()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Services:0:Name"] = "qwen-chat",
            ["Gateway:Services:0:Models:0"] = "qwen",
            ["Gateway:Services:0:Pools:0:Name"] = "on-prem",
            ["Gateway:Services:0:Pools:0:Static:0"] = "http://10.0.0.1:8000",
        }).Build();

        var points = Sweep.Points(configuration, [
            SweepAxis.Parse("Services:0:TargetUtilization=0.6,0.8"),
            SweepAxis.Parse("Gateway:Services:0:Pools:0:CapacityPerReplica=2,4"),
            SweepAxis.Parse("Services:0:Queue:MaxWaiting=50")]);

        Assert.Equal(
            ["TargetUtilization=0.6 CapacityPerReplica=2", "TargetUtilization=0.6 CapacityPerReplica=4", "TargetUtilization=0.8 CapacityPerReplica=2", "TargetUtilization=0.8 CapacityPerReplica=4"],
            points.Select(p => p.Label));
        Assert.Equal((0.8, 4, 50), (points[3].Options.Services[0].TargetUtilization, points[3].Options.Services[0].Pools[0].CapacityPerReplica, points[3].Options.Services[0].Queue.MaxWaiting));
    }
}

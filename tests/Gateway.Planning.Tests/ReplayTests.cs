using System.Diagnostics;
using Gateway.Configuration;
using Microsoft.Extensions.Configuration;
using Xunit.Abstractions;

namespace Gateway.Planning.Tests;

public sealed class ReplayTests(ITestOutputHelper output)
{
    /// <summary>The demo's configuration, as the gateway reads it.</summary>
    internal static GatewayOptions Demo()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var path = Path.Combine(folder.FullName, "config", "gateway.json");
            if (File.Exists(path) && File.Exists(Path.Combine(folder.FullName, "Gateway.sln")))
            {
                return GatewayConfiguration.Load(new ConfigurationBuilder().AddJsonFile(path).Build());
            }
        }

        throw new FileNotFoundException("config/gateway.json");
    }

    [Fact]
    public void SeedPeak_OnTheDemo_SpillsOverToTheCloudAndScalesBackIn()
    {
        var watch = Stopwatch.StartNew();
        var result = Replay.Run(
            Demo(),
            SyntheticWorkloads.Create("seed-peak"),
            new ReplaySettings(TimeSpan.FromSeconds(0.7)));
        output.WriteLine($"{watch.ElapsedMilliseconds} ms: {result}");
        output.WriteLine(string.Join(", ", result.ServedByPool.Select(p => $"{p.Key} {p.Value}")) + " | " + string.Join(", ", result.ReplicaSecondsByPool.Select(p => $"{p.Key} {p.Value}")) + " | " + string.Join(", ", result.FirstServedByPool.Select(p => $"{p.Key} {p.Value}")));

        Assert.Empty(result.Rejected);
        Assert.InRange(result.OnPremShare, 0.3, 0.45);
        Assert.InRange(result.CloudReplicaSeconds, 200, 320);
    }

    [Fact]
    public void RecordedPeakRun_Replayed_AgreesWithWhatTheRunMeasured_Within10Percent()
    {
        // A real `peak` drill on the demo (5 plain clients, 2 minutes, after a 5 s warm-up with one) with
        // Gateway:RequestLog:Path set; its report measured 279 cloud replica-seconds.
        const double MeasuredCloudReplicaSeconds = 279;
        var log = Path.Combine(AppContext.BaseDirectory, "Data", "peak-20261204T022637Z.jsonl");
        var workload = RequestLogReader.Read(log);
        var answered = workload.Requests.Where(r => r.Recorded is { Status: 200 }).ToList();
        var recordedOnPrem = (double)answered.Count(r => r.Recorded!.Pool == "on-prem") / answered.Count;
        var recordedTtfts = answered.Select(r => r.Recorded!.TimeToFirstToken!.Value.TotalSeconds).Order().ToList();
        var recordedP99 = ReplayRecorder.Percentile(recordedTtfts, 0.99);

        var result = Replay.Run(Demo(), workload, new ReplaySettings(TimeSpan.FromSeconds(0.7)));
        output.WriteLine($"replayed: on-prem {result.OnPremShare:P1} (recorded {recordedOnPrem:P1}), cloud {result.CloudReplicaSeconds} replica-s (measured {MeasuredCloudReplicaSeconds}), TTFT p99 {result.TimeToFirstToken.P99:F3} s (recorded {recordedP99:F3} s)");

        Assert.Equal(answered.Count, result.Answered);
        Assert.InRange(result.OnPremShare / recordedOnPrem, 0.9, 1.1);
        Assert.InRange(result.CloudReplicaSeconds / MeasuredCloudReplicaSeconds, 0.9, 1.1);
        Assert.InRange(result.TimeToFirstToken.P99 / recordedP99, 0.9, 1.1);
    }
}

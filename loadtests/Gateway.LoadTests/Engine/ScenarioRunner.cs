using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using HdrHistogram;

namespace Gateway.LoadTests.Engine;

/// <summary>
/// Runs a scenario under a load simulation, after an optional warm-up whose results are dropped (NBomber's
/// <c>WithWarmUpDuration</c>), and records counts by status, latency and time to first token in HdrHistograms.
/// </summary>
internal static class ScenarioRunner
{
    /// <summary>One hour, in microseconds: the longest latency a histogram holds.</summary>
    public const long HighestMicroseconds = 3_600_000_000;

    public static async Task<ScenarioStats> RunAsync(Scenario scenario, LoadSimulation? warmUp, LoadSimulation load, CancellationToken cancellationToken)
    {
        if (warmUp is not null && warmUp.During > TimeSpan.Zero)
        {
            await DriveAsync(scenario, warmUp, new Recording(), cancellationToken);
        }

        var recording = new Recording();
        var started = Stopwatch.GetTimestamp();
        await DriveAsync(scenario, load, recording, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        return recording.ToStats(scenario.Name, load.ToString(), Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// Runs two scenarios in alternating rounds of <paramref name="round"/> (A, B, A, B...), each side's rounds recorded
    /// together: on a shared machine, whatever else runs then falls on both sides alike instead of on one of them.
    /// </summary>
    public static async Task<(ScenarioStats A, ScenarioStats B)> RunAlternatingAsync(
        Scenario a, Scenario b, LoadSimulation round, int rounds, CancellationToken cancellationToken)
    {
        var (recordingA, recordingB) = (new Recording(), new Recording());
        var (elapsedA, elapsedB) = (TimeSpan.Zero, TimeSpan.Zero);
        for (var i = 0; i < rounds; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await DriveAsync(a, round, recordingA, cancellationToken);
            elapsedA += Stopwatch.GetElapsedTime(started);
            started = Stopwatch.GetTimestamp();
            await DriveAsync(b, round, recordingB, cancellationToken);
            elapsedB += Stopwatch.GetElapsedTime(started);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var load = rounds == 1 ? round.ToString() : $"{round}, {rounds} rounds alternating with {(a.Name == b.Name ? "the other" : b.Name)}";
        return (recordingA.ToStats(a.Name, load, elapsedA), recordingB.ToStats(b.Name, $"{round}, {rounds} rounds alternating with {a.Name}", elapsedB));
    }

    /// <summary>A histogram of microseconds from 1 us to an hour, three significant digits, safe for concurrent recording.</summary>
    public static LongConcurrentHistogram NewHistogram() => new(1, HighestMicroseconds, 3);

    /// <summary>Microseconds between two <see cref="Stopwatch"/> timestamps.</summary>
    public static long Microseconds(long from, long to) =>
        Math.Clamp((long)((to - from) * (1_000_000.0 / Stopwatch.Frequency)), 0, HighestMicroseconds);

    private static Task DriveAsync(Scenario scenario, LoadSimulation load, Recording recording, CancellationToken cancellationToken) => load switch
    {
        LoadSimulation.KeepConstant constant => KeepConstantAsync(scenario, constant, recording, cancellationToken),
        LoadSimulation.Inject inject => InjectAsync(scenario, inject, recording, cancellationToken),
        LoadSimulation.IterationsForConstant burst => IterationsAsync(scenario, burst, recording, cancellationToken),
        _ => throw new ArgumentOutOfRangeException(nameof(load), load, "unknown load simulation"),
    };

    private static async Task KeepConstantAsync(Scenario scenario, LoadSimulation.KeepConstant load, Recording recording, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(load.During.TotalSeconds * Stopwatch.Frequency);
        var copies = new Task[load.Copies];
        for (var i = 0; i < copies.Length; i++)
        {
            copies[i] = Task.Run(
                async () =>
                {
                    while (Stopwatch.GetTimestamp() < deadline && !cancellationToken.IsCancellationRequested)
                    {
                        await StepAsync(scenario, recording, cancellationToken);
                    }
                },
                CancellationToken.None);
        }

        await Task.WhenAll(copies);
    }

    private static async Task IterationsAsync(Scenario scenario, LoadSimulation.IterationsForConstant load, Recording recording, CancellationToken cancellationToken)
    {
        var remaining = (long)load.Iterations;
        var copies = new Task[load.Copies];
        for (var i = 0; i < copies.Length; i++)
        {
            copies[i] = Task.Run(
                async () =>
                {
                    while (Interlocked.Decrement(ref remaining) >= 0 && !cancellationToken.IsCancellationRequested)
                    {
                        await StepAsync(scenario, recording, cancellationToken);
                    }
                },
                CancellationToken.None);
        }

        await Task.WhenAll(copies);
    }

    private static async Task InjectAsync(Scenario scenario, LoadSimulation.Inject load, Recording recording, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(load.During.TotalSeconds * Stopwatch.Frequency);
        var ticksPerRequest = (double)Stopwatch.Frequency / load.Rate;
        var started = new List<Task>();
        long sent = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= deadline)
            {
                break;
            }

            // Every request due by now starts now, so a late wake-up does not lower the rate.
            var due = (long)((now - start) / ticksPerRequest) + 1;
            for (; sent < due; sent++)
            {
                started.Add(Task.Run(() => StepAsync(scenario, recording, cancellationToken), CancellationToken.None));
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(1), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await Task.WhenAll(started);
    }

    private static async Task StepAsync(Scenario scenario, Recording recording, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        StepResult result;
        try
        {
            result = await scenario.Step(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
#pragma warning disable CA1031 // Any exception of a step is a failed request (refused, reset, timed out), not the drill's end.
        catch (Exception)
#pragma warning restore CA1031
        {
            result = StepResult.Fail(0);
        }

        recording.Add(result, start, Stopwatch.GetTimestamp());
    }

    private sealed class Recording
    {
        private readonly ConcurrentDictionary<int, long> _byStatus = new();
        private readonly LongConcurrentHistogram _latency = NewHistogram();
        private readonly LongConcurrentHistogram _firstToken = NewHistogram();
        private long _ok;
        private long _failed;

        public void Add(StepResult result, long start, long end)
        {
            Interlocked.Increment(ref result.IsOk ? ref _ok : ref _failed);
            _byStatus.AddOrUpdate(result.StatusCode, 1, static (_, n) => n + 1);
            _latency.RecordValue(Math.Max(1, Microseconds(start, end)));
            if (result.IsOk && result.FirstTokenTimestamp != StepResult.NoFirstToken)
            {
                _firstToken.RecordValue(Math.Max(1, Microseconds(start, result.FirstTokenTimestamp)));
            }
        }

        public ScenarioStats ToStats(string scenario, string load, TimeSpan elapsed)
        {
            var byStatus = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var (status, count) in _byStatus)
            {
                byStatus[status == 0 ? "error" : status.ToString(CultureInfo.InvariantCulture)] = count;
            }

            var total = _ok + _failed;
            return new ScenarioStats(
                scenario,
                load,
                Math.Round(elapsed.TotalSeconds, 3),
                _ok,
                _failed,
                byStatus,
                Math.Round(total / elapsed.TotalSeconds, 1),
                Percentiles.FromMicroseconds(_latency),
                Percentiles.FromMicroseconds(_firstToken));
        }
    }
}

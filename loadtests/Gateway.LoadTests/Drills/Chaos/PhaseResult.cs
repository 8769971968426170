using Gateway.LoadTests.Engine;

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// One phase's figures: what its clients sent and what became of every request (completed, clean errors by code, cut
/// mid-answer, lost by reason, refused), the fault injected and what was seen of it, and the gateway's own counts of
/// requests placed again and turned away.
/// </summary>
internal sealed record PhaseResult(
    string Phase,
    PhaseLoad Load,
    Injection Injected,
    double LoadEndedAt,
    long Requests,
    long Completed,
    long CleanErrors,
    IReadOnlyDictionary<string, long> CleanErrorsByCode,
    long CutMidAnswer,
    long Lost,
    IReadOnlyDictionary<string, long> LostByReason,
    long Refused,
    IReadOnlyDictionary<string, long> RefusedByWhen,
    RequestCounts InFlightAtFault,
    Percentiles CompletedLatencyMs,
    IReadOnlyDictionary<string, double>? RetriesByReason,
    IReadOnlyDictionary<string, double>? RejectedByReason,
    IReadOnlyList<int> OnPremPids,
    IReadOnlyList<LostRequest> LostExamples,
    IReadOnlyList<RequestLine> Timeline)
{
    private const int Examples = 10;

    public static PhaseResult From(
        string phase, PhaseLoad load, Injection injected, double loadEndedAt, IReadOnlyList<RequestRecord> records,
        IReadOnlyDictionary<string, double>? retries, IReadOnlyDictionary<string, double>? rejected, IReadOnlyList<int> onPremPids)
    {
        var latency = ScenarioRunner.NewHistogram();
        foreach (var record in records.Where(r => r.Verdict.Kind == VerdictKind.Completed))
        {
            latency.RecordValue(Math.Max(1, (long)((record.EndedAt - record.StartedAt) * 1_000_000)));
        }

        var all = RequestCounts.Of(records);
        var lost = records.Where(r => r.Verdict.Kind == VerdictKind.Lost).ToList();
        return new PhaseResult(
            phase,
            load,
            injected,
            Math.Round(loadEndedAt, 3),
            all.Requests,
            all.Completed,
            all.CleanErrors,
            all.CleanErrorsByCode,
            all.CutMidAnswer,
            all.Lost,
            Count(lost, r => r.Verdict.Reason!),
            all.Refused,
            Count(records.Where(r => r.Verdict.Kind == VerdictKind.Refused), r => r.Verdict.Detail!),
            RequestCounts.Of([.. records.Where(r => r.StartedAt <= injected.At && r.EndedAt >= injected.At)]),
            Percentiles.FromMicroseconds(latency),
            retries,
            rejected,
            onPremPids,
            [.. lost.Take(Examples).Select(r => new LostRequest(r.Streamed, r.StartedAt, r.EndedAt, r.Verdict.Reason!, r.Verdict.Detail))],
            [.. records.Select(RequestLine.Of)]);
    }

    internal static SortedDictionary<string, long> Count(IEnumerable<RequestRecord> records, Func<RequestRecord, string> key)
    {
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            counts[key(record)] = counts.GetValueOrDefault(key(record)) + 1;
        }

        return counts;
    }
}

/// <summary>What a phase's clients sent, client by client, and why that load.</summary>
internal sealed record PhaseLoad(IReadOnlyList<ClientPlan> Clients, string Note)
{
    public int PlainClients => Clients.Count(c => !c.Streamed);

    public int StreamedClients => Clients.Count(c => c.Streamed);

    /// <summary>The clients grouped by what they send, e.g. <c>3 streamed (max_tokens 100) + 2 streamed (max_tokens 10)</c>.</summary>
    public override string ToString() =>
        string.Join(" + ", Clients.GroupBy(c => c).Select(g => $"{g.Count()} {g.Key}"));
}

/// <summary>Counts of a set of requests by verdict.</summary>
internal sealed record RequestCounts(
    long Requests, long Completed, long CleanErrors, IReadOnlyDictionary<string, long> CleanErrorsByCode, long CutMidAnswer, long Lost, long Refused)
{
    public static RequestCounts Of(IReadOnlyList<RequestRecord> records)
    {
        var clean = records.Where(r => r.Verdict.Kind == VerdictKind.CleanError).ToList();
        return new RequestCounts(
            records.Count,
            records.Count(r => r.Verdict.Kind == VerdictKind.Completed),
            clean.Count,
            PhaseResult.Count(clean, r => r.Verdict.Code!),
            clean.Count(r => r.Verdict.CutMidAnswer),
            records.Count(r => r.Verdict.Kind == VerdictKind.Lost),
            records.Count(r => r.Verdict.Kind == VerdictKind.Refused));
    }
}

/// <summary>A lost request, for finding out why: streamed or not, when (seconds from the load's start), the reason and what came.</summary>
internal sealed record LostRequest(bool Streamed, double StartedAt, double EndedAt, string Reason, string? Detail);

/// <summary>
/// One request on the phase's time line, compactly: <c>p</c>lain or <c>s</c>treamed, its start and end (seconds from the
/// load's start), and what became of it (<c>completed</c>, the clean error's code, <c>lost: reason</c>, <c>refused</c>).
/// </summary>
internal sealed record RequestLine(string Kind, double Start, double End, string Outcome)
{
    public static RequestLine Of(RequestRecord record) => new(
        record.Streamed ? "s" : "p",
        record.StartedAt,
        record.EndedAt,
        record.Verdict.Kind switch
        {
            VerdictKind.Completed => "completed",
            VerdictKind.CleanError => record.Verdict.CutMidAnswer ? $"{record.Verdict.Code} (cut mid-answer)" : record.Verdict.Code!,
            VerdictKind.Lost => "lost: " + record.Verdict.Reason,
            _ => "refused",
        });
}

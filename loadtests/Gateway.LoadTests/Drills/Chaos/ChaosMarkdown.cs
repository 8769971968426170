using System.Globalization;
using System.Text;
using Gateway.LoadTests.Reports;

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>A chaos run as a Markdown table, one row per phase, and a line per phase of what was seen of its fault.</summary>
internal static class ChaosMarkdown
{
    public static string Render(ChaosResult chaos)
    {
        var table = new MarkdownTable(
            "phase", "load", "injected (s from load start)", "requests", "completed", "clean errors (by code)", "of which cut mid-answer", "lost", "refused (gateway gone)");
        foreach (var p in chaos.Phases)
        {
            table.Row(
                p.Phase,
                p.Load.ToString(),
                string.Create(CultureInfo.InvariantCulture, $"{p.Injected.What}, at {p.Injected.At:0.0}{(p.Injected.EndedAt > p.Injected.At ? $" to {p.Injected.EndedAt:0.0}" : "")}"),
                p.Requests,
                p.Completed,
                p.CleanErrors == 0 ? "0" : $"{MarkdownTable.Cell(p.CleanErrors)} ({By(p.CleanErrorsByCode)})",
                p.CutMidAnswer,
                p.Lost == 0 ? "0" : $"{MarkdownTable.Cell(p.Lost)} ({By(p.LostByReason)})",
                p.Refused);
        }

        var text = new StringBuilder().AppendLine(table.ToString());
        foreach (var p in chaos.Phases)
        {
            var seen = string.Join(", ", p.Injected.Evidence.Where(e => e.Value is not null).Select(e => $"{e.Key} {Evidence(e.Value)}"));
            var retries = p.RetriesByReason is null ? "" : "; placed again by the gateway: " + (By(p.RetriesByReason) is { Length: > 0 } by ? by : "none");
            var atFault = p.InFlightAtFault;
            text.AppendLine(CultureInfo.InvariantCulture, $"- {p.Phase}: {seen}{retries}; in flight at the fault {atFault.Requests}: {atFault.Completed} completed, {atFault.CleanErrors} clean errors, {atFault.Lost} lost; completed latency p50 / p99 / max {MarkdownTable.Cell(p.CompletedLatencyMs.P50)} / {MarkdownTable.Cell(p.CompletedLatencyMs.P99)} / {MarkdownTable.Cell(p.CompletedLatencyMs.Max)} ms");
        }

        var s = chaos.Settings;
        text.AppendLine()
            .AppendLine(CultureInfo.InvariantCulture,
                $"Each phase against a fresh gateway: {s.SteadySeconds:0.#} s of steady load, the fault's {s.FaultSeconds:0.#} s window, {s.RecoverySeconds:0.#} s to recover (sigterm: after the gateway's exit, until every client has met it gone); {s.Clients} clients in a closed loop, each request given {s.ClientDeadlineSeconds:0} s to answer whole (lost beyond); a clean error's Retry-After honoured up to {s.RetryAfterCapSeconds:0} s.");
        return text.ToString();
    }

    /// <summary>Ids as they are (a pid with a thousands separator reads as two numbers), other values as table cells.</summary>
    private static string Evidence(object? value) => value switch
    {
        int or long => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        _ => MarkdownTable.Cell(value),
    };

    private static string By<T>(IReadOnlyDictionary<string, T> counts) =>
        string.Join(", ", counts.Where(c => Convert.ToDouble(c.Value, CultureInfo.InvariantCulture) != 0).Select(c => $"{c.Key}: {MarkdownTable.Cell(c.Value)}"));
}

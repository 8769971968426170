using System.Text;
using Gateway.LoadTests.Reports;

namespace Gateway.LoadTests.Drills;

/// <summary>The peak and compare drills' results as Markdown tables, one column per peak.</summary>
internal static class PeakMarkdown
{
    /// <summary>One peak, headed by the balancing the gateway reported.</summary>
    public static string Render(PeakResult peak) => Render([new PeakColumn(peak.Balancing ?? peak.Label, null, peak)]);

    /// <summary>Peaks side by side; a column's scaling, when given, gets a row of its own.</summary>
    public static string Render(IReadOnlyList<PeakColumn> columns)
    {
        var peaks = columns.Select(c => c.Peak).ToArray();
        var table = new MarkdownTable(["", .. columns.Select(c => c.Header)]);
        void Row(string name, Func<PeakResult, object?> value) => table.Row([name, .. peaks.Select(value)]);

        Row("balancing", p => p.Balancing);
        if (columns.Any(c => c.Scaling is not null))
        {
            table.Row(["scaling", .. columns.Select(c => c.Scaling)]);
        }

        Row("load", p => $"{p.Settings.Concurrency} clients, {p.Settings.DurationSeconds:0.#} s{(p.Settings.Streamed ? ", streamed" : "")}");
        Row("requests ok / failed", p => $"{MarkdownTable.Cell(p.Client.Ok)} / {MarkdownTable.Cell(p.Client.Failed)}");
        Row("by status", p => string.Join(", ", p.Client.ByStatus.Select(s => $"{s.Key}: {MarkdownTable.Cell(s.Value)}")));
        Row("requests per second", p => p.Client.RequestsPerSecond);
        Row("latency p50 / p90 / p99 (ms)", p => $"{MarkdownTable.Cell(p.Client.LatencyMs.P50)} / {MarkdownTable.Cell(p.Client.LatencyMs.P90)} / {MarkdownTable.Cell(p.Client.LatencyMs.P99)}");
        Row("TTFT p50 / p90 / p99 (ms), client", p => $"{MarkdownTable.Cell(p.Client.FirstTokenMs.P50)} / {MarkdownTable.Cell(p.Client.FirstTokenMs.P90)} / {MarkdownTable.Cell(p.Client.FirstTokenMs.P99)}");
        Row("TTFT p50 / p90 / p99 (ms), gateway histogram", p => p.Gateway is null ? null
            : $"{MarkdownTable.Cell(p.Gateway.GatewayTtftMs.P50)} / {MarkdownTable.Cell(p.Gateway.GatewayTtftMs.P90)} / {MarkdownTable.Cell(p.Gateway.GatewayTtftMs.P99)}");
        Row("queue wait p50 / p90 / p99 (ms), gateway histogram", p => p.Gateway is null ? null
            : $"{MarkdownTable.Cell(p.Gateway.QueueWaitMs.P50)} / {MarkdownTable.Cell(p.Gateway.QueueWaitMs.P90)} / {MarkdownTable.Cell(p.Gateway.QueueWaitMs.P99)}");
        Row("served on-prem / cloud", p => p.Gateway is null ? null : $"{p.Gateway.OnPremShare:P1} / {p.Gateway.CloudShare:P1}");
        if (peaks.Any(p => p.Gateway?.ProviderShare > 0 || p.Gateway?.CostByPool.Values.Any(c => c > 0) == true))
        {
            Row("served by a provider", p => p.Gateway is null ? null : $"{p.Gateway.ProviderShare:P1}");
            Row("cost by pool (currency units)", p => p.Gateway is null ? null
                : string.Join(", ", p.Gateway.CostByPool.Select(c => $"{c.Key}: {MarkdownTable.Cell(c.Value)}")));
            Row("cost, total", p => p.Gateway is null ? null : Math.Round(p.Gateway.CostByPool.Values.Sum(), 4));
        }

        Row("on-prem full (share of samples in the load)", p => p.Gateway is null ? null : $"{p.Gateway.OnPremFullShareOfSamples:P0}");
        Row("first queued request (s after load start)", p => p.Gateway?.FirstQueuedAt);
        Row("first scale-out (s after load start)", p => p.Gateway?.FirstScaleOutAt);
        Row("first scale-out, gateway's event time (s after load start)", p => p.Gateway?.FirstScaleOutEventAt);
        Row("first queued -> first scale-out (s)", p => p.Gateway?.QueuedToScaleOutSeconds);
        Row("first cloud-served request (s after load start)", p => p.Gateway?.FirstCloudServedAt);
        Row("cloud replica-seconds", p => p.Gateway?.CloudReplicaSeconds);
        Row("cloud replica-seconds counted over (s from load start)", p => p.Gateway is null ? null : $"0 to {MarkdownTable.Cell(p.Gateway.SampledUntil)}");
        Row("peak cloud replicas", p => p.Gateway?.PeakCloudReplicas);
        Row("cloud back to min (s after load end)", p => p.Gateway is null ? null
            : p.Gateway.BackToMinAfterLoadSeconds is { } s ? s : $"not within {p.Settings.SettleTimeoutSeconds:0} s");
        Row("sampling interval (s)", p => p.Settings.SampleIntervalSeconds);

        return new StringBuilder()
            .AppendLine(table.ToString())
            .AppendLine($"TTFT, client: {peaks[0].Settings.FirstTokenMeasure}. TTFT, gateway histogram: interpolated inside its buckets (0.25, 0.5, 1, 2.5, 5 s...), so coarse. Times of events are those of the first sample that shows them (the sampling interval is their resolution), except the scale-out's event time, from the gateway's own log.")
            .ToString();
    }
}

/// <summary>A peak's column in the table: its header and, in compare, the scaling its side ran with.</summary>
internal sealed record PeakColumn(string Header, string? Scaling, PeakResult Peak);

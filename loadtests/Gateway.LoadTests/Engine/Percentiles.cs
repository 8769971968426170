using HdrHistogram;

namespace Gateway.LoadTests.Engine;

/// <summary>Percentiles of a distribution, in milliseconds, as a report shows them.</summary>
internal sealed record Percentiles(long Count, double P50, double P90, double P99, double Max)
{
    public static readonly Percentiles Empty = new(0, 0, 0, 0, 0);

    /// <summary>Reads a histogram recorded in microseconds.</summary>
    public static Percentiles FromMicroseconds(HistogramBase histogram) => From(histogram, 1_000);

    /// <summary>Reads a histogram recorded in nanoseconds.</summary>
    public static Percentiles FromNanoseconds(HistogramBase histogram) => From(histogram, 1_000_000);

    private static Percentiles From(HistogramBase histogram, double perMillisecond) => histogram.TotalCount == 0
        ? Empty
        : new Percentiles(
            histogram.TotalCount,
            Math.Round(histogram.GetValueAtPercentile(50) / perMillisecond, 4),
            Math.Round(histogram.GetValueAtPercentile(90) / perMillisecond, 4),
            Math.Round(histogram.GetValueAtPercentile(99) / perMillisecond, 4),
            Math.Round(histogram.GetMaxValue() / perMillisecond, 4));
}

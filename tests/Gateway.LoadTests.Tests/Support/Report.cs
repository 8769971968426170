using System.Text.Json;

namespace Gateway.LoadTests.Tests.Support;

/// <summary>Reading a drill report's JSON in assertions.</summary>
internal static class Report
{
    public static JsonElement At(this JsonElement element, params string[] path)
    {
        foreach (var name in path)
        {
            Assert.True(element.TryGetProperty(name, out var child), $"no '{name}' in {element}");
            element = child;
        }

        return element;
    }

    public static double Number(this JsonElement element, params string[] path) => element.At(path).GetDouble();

    public static long Count(this JsonElement element, params string[] path) => element.At(path).GetInt64();

    /// <summary>Asserts p50 &lt;= p90 &lt;= p99 &lt;= max, all above 0, and that they count <paramref name="count"/> values.</summary>
    public static void AssertPercentiles(JsonElement percentiles, long count)
    {
        Assert.Equal(count, percentiles.Count("count"));
        var (p50, p90, p99, max) = (percentiles.Number("p50"), percentiles.Number("p90"), percentiles.Number("p99"), percentiles.Number("max"));
        Assert.True(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= max, $"percentiles out of order: {percentiles}");
    }
}

using System.Text.Json;

namespace Gateway.LoadTests.Drills;

/// <summary>
/// The same peak twice, one gateway after the other: the service as configured with <c>SpillOver</c> (on-prem first)
/// and then with <c>RoundRobin</c> (every ready replica in turn), so the split and the cloud bill sit side by side.
/// </summary>
internal static class CompareDrill
{
    public static async Task<CompareResult> RunAsync(DrillOptions options, CancellationToken cancellationToken)
    {
        var configPath = options.ConfigPath ?? Repository.DemoConfigPath;
        var spillOver = await PeakDrill.RunAsync(options, Balancing(configPath, "SpillOver"), "SpillOver", cancellationToken);
        var roundRobin = await PeakDrill.RunAsync(options, Balancing(configPath, "RoundRobin"), "RoundRobin", cancellationToken);
        return new CompareResult(spillOver, roundRobin);
    }

    /// <summary>Sets every service of the configuration to <paramref name="mode"/>.</summary>
    private static List<string> Balancing(string configPath, string mode)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(configPath), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var services = config.RootElement.GetProperty("Gateway").GetProperty("Services").GetArrayLength();
        return [.. Enumerable.Range(0, services).Select(i => $"--Gateway:Services:{i}:Balancing={mode}")];
    }
}

/// <summary>Spill-over and round-robin under the same peak.</summary>
internal sealed record CompareResult(PeakResult SpillOver, PeakResult RoundRobin);

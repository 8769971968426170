using System.Globalization;
using System.Text.Json;

namespace Gateway.LoadTests.Drills;

/// <summary>Where the drills find the repository's files: the demo configuration and the results folder.</summary>
internal static class Repository
{
    /// <summary>The repository's root (the folder of <c>Gateway.sln</c>) above the working folder or the drill's dll, if any.</summary>
    public static string? Root =>
        RootAbove(Directory.GetCurrentDirectory()) ?? RootAbove(AppContext.BaseDirectory);

    /// <summary>The demo configuration, <c>config/gateway.json</c>.</summary>
    public static string DemoConfigPath => Root is { } root
        ? Path.Combine(root, "config", "gateway.json")
        : throw new FileNotFoundException("config/gateway.json not found (no Gateway.sln above the working folder); give --config PATH");

    /// <summary><c>loadtests/results/DRILL[-short]-yyyyMMddTHHmmssZ.json</c> at the repository's root (or the working folder).</summary>
    public static string DefaultReportPath(string drill, bool isShort, DateTimeOffset now) => Path.Combine(
        Root is { } root ? Path.Combine(root, "loadtests", "results") : Directory.GetCurrentDirectory(),
        $"{drill}{(isShort ? "-short" : "")}-{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}.json");

    /// <summary>
    /// Overrides that make the configuration's elastic pools boot in 1 s, scale out after 0.5 s and in after 2 s of calm,
    /// so a few seconds of peak still show a scale-out and the return to the minimum: the simulator's
    /// <c>--startup-duration</c> argument of each elastic Process pool, and its Scaling windows.
    /// </summary>
    public static IReadOnlyList<string> ShortScalingOverrides(string configPath)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(configPath), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var overrides = new List<string>();
        var services = config.RootElement.GetProperty("Gateway").GetProperty("Services");
        for (var s = 0; s < services.GetArrayLength(); s++)
        {
            var pools = services[s].GetProperty("Pools");
            for (var p = 0; p < pools.GetArrayLength(); p++)
            {
                var pool = pools[p];
                if (!pool.TryGetProperty("Scaling", out _))
                {
                    continue;
                }

                var key = $"--Gateway:Services:{s}:Pools:{p}";
                overrides.Add($"{key}:Scaling:ScaleOutWindowSeconds=0.5");
                overrides.Add($"{key}:Scaling:ScaleInStabilizationSeconds=2");
                if (pool.TryGetProperty("Process", out var process) && process.TryGetProperty("Arguments", out var arguments))
                {
                    var list = arguments.EnumerateArray().Select(a => a.GetString()).ToList();
                    var at = list.IndexOf("--startup-duration");
                    if (at >= 0 && at + 1 < list.Count)
                    {
                        overrides.Add($"{key}:Process:Arguments:{at + 1}=1");
                    }
                }
            }
        }

        return overrides;
    }

    private static string? RootAbove(string start)
    {
        for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Gateway.sln")) && File.Exists(Path.Combine(folder.FullName, "config", "gateway.json")))
            {
                return folder.FullName;
            }
        }

        return null;
    }
}

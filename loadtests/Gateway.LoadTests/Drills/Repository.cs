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

    /// <summary>The bridge example, <c>config/examples/bridge.json</c>.</summary>
    public static string BridgeConfigPath => Root is { } root
        ? Path.Combine(root, "config", "examples", "bridge.json")
        : throw new FileNotFoundException("config/examples/bridge.json not found (no Gateway.sln above the working folder); give --config PATH");

    /// <summary>Overrides that set <paramref name="key"/> (e.g. <c>Bridge:MaxQueueWaitMs</c>) of every pool whose <c>Role</c> is <c>Bridge</c>.</summary>
    public static IReadOnlyList<string> BridgeOverrides(string configPath, string key, string value)
    {
        using var config = Read(configPath);
        var overrides = new List<string>();
        var services = config.RootElement.GetProperty("Gateway").GetProperty("Services");
        for (var s = 0; s < services.GetArrayLength(); s++)
        {
            var pools = services[s].GetProperty("Pools");
            for (var p = 0; p < pools.GetArrayLength(); p++)
            {
                if (pools[p].TryGetProperty("Role", out var role) && role.GetString() == "Bridge")
                {
                    overrides.Add($"--Gateway:Services:{s}:Pools:{p}:{key}={value}");
                }
            }
        }

        return overrides.Count > 0 ? overrides : throw new InvalidOperationException($"{configPath}: no pool has Role Bridge");
    }

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
        var overrides = new List<string>();
        foreach (var pool in ElasticPools(configPath))
        {
            overrides.AddRange(WindowOverrides(pool.Key, scaleOutWindowSeconds: 0.5, scaleInStabilizationSeconds: 2));
            if (pool.StartupDurationArgument is { } at)
            {
                overrides.Add($"{pool.Key}:Process:Arguments:{at}=1");
            }
        }

        return overrides;
    }

    /// <summary>Overrides that give every elastic pool of the configuration these scale-out and scale-in windows.</summary>
    public static IReadOnlyList<string> ScalingWindowOverrides(string configPath, double scaleOutWindowSeconds, double scaleInStabilizationSeconds) =>
        [.. ElasticPools(configPath).SelectMany(pool => WindowOverrides(pool.Key, scaleOutWindowSeconds, scaleInStabilizationSeconds))];

    /// <summary>Overrides that set <paramref name="key"/> (a service's property, e.g. <c>Balancing</c>) of every service of the configuration.</summary>
    public static IReadOnlyList<string> ServiceOverrides(string configPath, string key, string value)
    {
        using var config = Read(configPath);
        var services = config.RootElement.GetProperty("Gateway").GetProperty("Services").GetArrayLength();
        return [.. Enumerable.Range(0, services).Select(i => $"--Gateway:Services:{i}:{key}={value}")];
    }

    /// <summary>
    /// The override that appends <paramref name="argument"/> to the Process arguments of the first service's on-prem pool
    /// (its lowest priority number), e.g. the simulator's <c>--failure-control</c>.
    /// </summary>
    public static string AppendOnPremArgument(string configPath, string argument)
    {
        using var config = Read(configPath);
        var pools = config.RootElement.GetProperty("Gateway").GetProperty("Services")[0].GetProperty("Pools");
        var onPrem = Enumerable.Range(0, pools.GetArrayLength())
            .MinBy(p => pools[p].TryGetProperty("Priority", out var priority) ? priority.GetInt32() : 0);
        if (!pools[onPrem].TryGetProperty("Process", out var process) || !process.TryGetProperty("Arguments", out var arguments))
        {
            throw new InvalidOperationException($"{configPath}: the on-prem pool {pools[onPrem].GetProperty("Name").GetString()} is not a Process pool with Arguments");
        }

        return $"--Gateway:Services:0:Pools:{onPrem}:Process:Arguments:{arguments.GetArrayLength()}={argument}";
    }

    private static string[] WindowOverrides(string key, double scaleOutWindowSeconds, double scaleInStabilizationSeconds) =>
    [
        string.Create(CultureInfo.InvariantCulture, $"{key}:Scaling:ScaleOutWindowSeconds={scaleOutWindowSeconds}"),
        string.Create(CultureInfo.InvariantCulture, $"{key}:Scaling:ScaleInStabilizationSeconds={scaleInStabilizationSeconds}"),
    ];

    /// <summary>
    /// The pools with a <c>Scaling</c> section, each as its override key (<c>--Gateway:Services:S:Pools:P</c>) and, for a
    /// Process pool that passes the simulator <c>--startup-duration</c>, the index of that argument's value.
    /// </summary>
    private static List<(string Key, int? StartupDurationArgument)> ElasticPools(string configPath)
    {
        using var config = Read(configPath);
        var pools = new List<(string, int?)>();
        var services = config.RootElement.GetProperty("Gateway").GetProperty("Services");
        for (var s = 0; s < services.GetArrayLength(); s++)
        {
            var servicePools = services[s].GetProperty("Pools");
            for (var p = 0; p < servicePools.GetArrayLength(); p++)
            {
                var pool = servicePools[p];
                if (!pool.TryGetProperty("Scaling", out _))
                {
                    continue;
                }

                int? startup = null;
                if (pool.TryGetProperty("Process", out var process) && process.TryGetProperty("Arguments", out var arguments))
                {
                    var list = arguments.EnumerateArray().Select(a => a.GetString()).ToList();
                    var at = list.IndexOf("--startup-duration");
                    startup = at >= 0 && at + 1 < list.Count ? at + 1 : null;
                }

                pools.Add(($"--Gateway:Services:{s}:Pools:{p}", startup));
            }
        }

        return pools;
    }

    private static JsonDocument Read(string configPath) =>
        JsonDocument.Parse(File.ReadAllText(configPath), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });

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

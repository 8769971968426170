using System.Globalization;
using Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Planning;

/// <summary>One <c>--set KEY=V1,V2,...</c>: a configuration key (under <c>Gateway</c>) and the values to try it with.</summary>
/// <param name="Key">As in configuration, e.g. <c>Services:0:Pools:0:Process:Replicas</c>; a leading <c>Gateway:</c> may be left out.</param>
/// <param name="Values">In the order given.</param>
internal sealed record SweepAxis(string Key, IReadOnlyList<string> Values)
{
    /// <summary>Reads <c>KEY=V1,V2,...</c>, or says what is wrong with it.</summary>
    public static SweepAxis Parse(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || equals == text.Length - 1)
        {
            throw new PlanningException($"--set {text}: give KEY=V1,V2,... (e.g. Services:0:Pools:0:Process:Replicas=1,2,3)");
        }

        var key = text[..equals].Trim();
        if (key.StartsWith(GatewayOptions.SectionName + ":", StringComparison.OrdinalIgnoreCase))
        {
            key = key[(GatewayOptions.SectionName.Length + 1)..];
        }

        var values = text[(equals + 1)..].Split(',', StringSplitOptions.TrimEntries);
        if (values.Any(v => v.Length == 0))
        {
            throw new PlanningException($"--set {text}: a value between commas is empty");
        }

        return new SweepAxis(key, values);
    }
}

/// <summary>One combination of a sweep: a value for every axis, and the options they make.</summary>
/// <param name="Settings">Key and value per axis, in the axes' order; empty for a plan with no <c>--set</c>.</param>
/// <param name="Options">The configuration with those values, validated.</param>
/// <param name="Label">
/// The values that tell this plan from the others, e.g. <c>Replicas=2 TargetUtilization=0.6</c> (the last part of each
/// key whose axis has more than one value); <c>as configured</c> when none has.
/// </param>
internal sealed record SweepPoint(IReadOnlyList<KeyValuePair<string, string>> Settings, GatewayOptions Options, string Label);

/// <summary>Every combination of the axes' values (their cartesian product) applied over a configuration.</summary>
internal static class Sweep
{
    /// <summary>The combinations, first axis slowest; each configuration is read and validated as the gateway would, keys named when wrong.</summary>
    public static IReadOnlyList<SweepPoint> Points(IConfiguration configuration, IReadOnlyList<SweepAxis> axes)
    {
        var points = new List<SweepPoint>();
        foreach (var settings in Combinations(axes, 0))
        {
            var overrides = settings.ToDictionary(s => $"{GatewayOptions.SectionName}:{s.Key}", s => (string?)s.Value, StringComparer.OrdinalIgnoreCase);
            var combined = new ConfigurationBuilder().AddConfiguration(configuration).AddInMemoryCollection(overrides).Build();
            GatewayOptions options;
            try
            {
                options = GatewayConfiguration.Load(combined);
            }
            catch (GatewayConfigurationException e)
            {
                var label = string.Join(" ", settings.Select(s => $"{s.Key}={s.Value}"));
                throw new PlanningException($"{(label.Length == 0 ? "the configuration" : label)}: {string.Join("; ", e.Errors)}");
            }

            var varying = settings.Where((_, i) => axes[i].Values.Count > 1).Select(s => $"{s.Key[(s.Key.LastIndexOf(':') + 1)..]}={s.Value}").ToList();
            points.Add(new SweepPoint(settings, options, varying.Count == 0 ? "as configured" : string.Join(" ", varying)));
        }

        return points;
    }

    private static IEnumerable<List<KeyValuePair<string, string>>> Combinations(IReadOnlyList<SweepAxis> axes, int from)
    {
        if (from == axes.Count)
        {
            yield return [];
            yield break;
        }

        foreach (var value in axes[from].Values)
        {
            foreach (var rest in Combinations(axes, from + 1))
            {
                rest.Insert(0, new(axes[from].Key, value));
                yield return rest;
            }
        }
    }

    /// <summary>Formats a number for a table or a label, invariant culture.</summary>
    public static string Format(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}

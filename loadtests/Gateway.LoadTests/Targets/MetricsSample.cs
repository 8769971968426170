namespace Gateway.LoadTests.Targets;

/// <summary>One scrape of the gateway's admin <c>/metrics</c>, <see cref="At"/> seconds after the load started (negative before).</summary>
internal sealed record MetricsSample(double At, IReadOnlyDictionary<string, double> Values)
{
    /// <summary>
    /// The sum of the series of <paramref name="name"/> whose labels include every pair of <paramref name="labels"/>
    /// (<c>("pool", "on-prem")</c>); a label given as null must merely be present.
    /// </summary>
    public double Sum(string name, params (string Label, string? Value)[] labels)
    {
        var sum = 0.0;
        foreach (var (key, value) in Values)
        {
            if (Matches(key, name, labels))
            {
                sum += value;
            }
        }

        return sum;
    }

    private static bool Matches(string key, string name, (string Label, string? Value)[] labels)
    {
        if (!key.StartsWith(name, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = key.AsSpan(name.Length);
        if (rest.Length == 0)
        {
            return labels.Length == 0;
        }

        if (rest[0] != '{')
        {
            return false;
        }

        foreach (var (label, value) in labels)
        {
            var pair = value is null ? label + "=\"" : $"{label}=\"{value}\"";
            var at = rest.IndexOf(pair, StringComparison.Ordinal);
            if (at < 0 || (rest[at - 1] != '{' && rest[at - 1] != ','))
            {
                return false;
            }
        }

        return true;
    }
}

using System.Globalization;

namespace Gateway.Planning;

/// <summary>
/// A synthetic trace as <c>--synthetic</c> names it: <c>NAME</c> or <c>NAME:key=value,key=value</c>, for example
/// <c>bursty:minutes=30,rate=2,burst_rate=10,seed=7</c>. A generator reads the keys it knows, each with its default,
/// then calls <see cref="EnsureAllRead"/> so that a misspelt key is an error rather than a silent default. Every
/// error is a <see cref="FormatException"/> that names the trace and the key.
/// </summary>
internal sealed class SyntheticSpec
{
    private readonly Dictionary<string, string> _values;
    private readonly HashSet<string> _read = new(StringComparer.OrdinalIgnoreCase);

    private SyntheticSpec(string name, Dictionary<string, string> values)
    {
        Name = name;
        _values = values;
    }

    /// <summary>The generator's name, as given (generators match it ignoring case).</summary>
    public string Name { get; }

    /// <summary>Splits <paramref name="text"/> into its name and its key/value pairs.</summary>
    /// <exception cref="FormatException">No name, a pair without <c>=</c>, an empty key or a key given twice.</exception>
    public static SyntheticSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var name = (colon < 0 ? text : text[..colon]).Trim();
        if (name.Length == 0)
        {
            throw new FormatException($"synthetic trace '{text}': no name before the parameters (expected NAME or NAME:key=value,...)");
        }

        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (colon >= 0)
        {
            foreach (var pair in text[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                var key = equals < 0 ? "" : pair[..equals].Trim();
                if (key.Length == 0)
                {
                    throw new FormatException($"synthetic trace '{name}': '{pair}' is not key=value");
                }

                if (!values.TryAdd(key, pair[(equals + 1)..].Trim()))
                {
                    throw new FormatException($"synthetic trace '{name}': {key} is given twice");
                }
            }
        }

        return new SyntheticSpec(name, values);
    }

    /// <summary>The number under <paramref name="key"/>, or <paramref name="fallback"/> when it is not given.</summary>
    /// <exception cref="FormatException">The value is not a finite number in [<paramref name="min"/>, <paramref name="max"/>], or not above <paramref name="min"/> when <paramref name="minExclusive"/>.</exception>
    public double Double(string key, double fallback, double min, double max = double.MaxValue, bool minExclusive = false)
    {
        if (!TryGet(key, out var text))
        {
            return fallback;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value)
            || value < min || (minExclusive && value == min) || value > max)
        {
            throw Bad(key, text, $"a number {Range(min, max, minExclusive)}");
        }

        return value;
    }

    /// <summary>The whole number under <paramref name="key"/>, or <paramref name="fallback"/> when it is not given.</summary>
    /// <exception cref="FormatException">The value is not a whole number in [<paramref name="min"/>, <paramref name="max"/>].</exception>
    public int Int(string key, int fallback, int min, int max = int.MaxValue)
    {
        if (!TryGet(key, out var text))
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw Bad(key, text, $"a whole number {Range(min, max, minExclusive: false)}");
        }

        return value;
    }

    /// <summary>The <c>true</c> or <c>false</c> under <paramref name="key"/>, or <paramref name="fallback"/> when it is not given.</summary>
    /// <exception cref="FormatException">The value is neither.</exception>
    public bool Bool(string key, bool fallback)
    {
        if (!TryGet(key, out var text))
        {
            return fallback;
        }

        return bool.TryParse(text, out var value) ? value : throw Bad(key, text, "true or false");
    }

    /// <summary>
    /// The whole numbers under <paramref name="key"/>, separated by <c>/</c> (a comma separates keys), for example
    /// <c>max_tokens=16/32/64</c>; <paramref name="fallback"/> when it is not given.
    /// </summary>
    /// <exception cref="FormatException">A part is not a whole number in [<paramref name="min"/>, <paramref name="max"/>].</exception>
    public IReadOnlyList<int> Ints(string key, IReadOnlyList<int> fallback, int min, int max = int.MaxValue)
    {
        if (!TryGet(key, out var text))
        {
            return fallback;
        }

        var parts = text.Split('/', StringSplitOptions.TrimEntries);
        var values = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i]) || values[i] < min || values[i] > max)
            {
                throw Bad(key, text, $"whole numbers {Range(min, max, minExclusive: false)} separated by '/'");
            }
        }

        return values;
    }

    /// <summary>Throws when a key was given that the generator did not read, naming it and the keys the generator knows.</summary>
    /// <exception cref="FormatException">An unknown key.</exception>
    public void EnsureAllRead()
    {
        foreach (var key in _values.Keys)
        {
            if (!_read.Contains(key))
            {
                throw new FormatException($"synthetic trace '{Name}': unknown key '{key}' (known: {string.Join(", ", _read.Order(StringComparer.Ordinal))})");
            }
        }
    }

    private bool TryGet(string key, out string text)
    {
        _read.Add(key);
        return _values.TryGetValue(key, out text!);
    }

    private FormatException Bad(string key, string text, string expected) =>
        new($"synthetic trace '{Name}': {key}={text} is not {expected}");

    private static string Range(double min, double max, bool minExclusive) => (max == double.MaxValue || max == int.MaxValue)
        ? string.Create(CultureInfo.InvariantCulture, $"{(minExclusive ? "above" : "of at least")} {min}")
        : string.Create(CultureInfo.InvariantCulture, $"{(minExclusive ? "above" : "from")} {min} {(minExclusive ? "and at most" : "to")} {max}");
}

namespace Gateway.Simulator.Options;

/// <summary>The command-line names of <see cref="FailureType"/> values (llm-d-inference-sim's spelling).</summary>
internal static class FailureTypeNames
{
    private static readonly (string Name, FailureType Type)[] Names =
    [
        ("rate_limit", FailureType.RateLimit),
        ("invalid_api_key", FailureType.InvalidApiKey),
        ("context_length", FailureType.ContextLength),
        ("server_error", FailureType.ServerError),
        ("invalid_request", FailureType.InvalidRequest),
        ("model_not_found", FailureType.ModelNotFound),
        ("unavailable", FailureType.Unavailable),
    ];

    /// <summary>Every name, in the order help text lists them.</summary>
    public static IEnumerable<string> All => Names.Select(n => n.Name);

    /// <summary>The command-line name of <paramref name="type"/>.</summary>
    public static string Name(FailureType type)
    {
        foreach (var (name, known) in Names)
        {
            if (known == type)
            {
                return name;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(type), type, "a failure type without a name");
    }

    /// <summary>Parses one name or throws a <see cref="FormatException"/> naming the flag.</summary>
    public static FailureType Parse(string flag, string value)
    {
        foreach (var (name, type) in Names)
        {
            if (string.Equals(name, value, StringComparison.OrdinalIgnoreCase))
            {
                return type;
            }
        }

        throw new FormatException($"{flag}: unknown failure type '{value}' (known: {string.Join(", ", All)})");
    }
}

using Gateway.Simulator.Options;

namespace Gateway.Simulator.Api;

/// <summary>
/// Answers a configured share of API requests with an error, as a sick or overloaded replica would, so the
/// gateway's retries, ejection and error paths can be exercised. Draws come from the seeded generator.
/// </summary>
internal sealed class FailureInjector
{
    private static readonly FailureType[] AllTypes = Enum.GetValues<FailureType>();

    private readonly Lock _lock = new();
    private readonly Random _random;
    private readonly double _rate;
    private readonly FailureType[] _types;
    private readonly SimulatorOptions _options;

    public FailureInjector(SimulatorOptions options, Random random)
    {
        _options = options;
        _random = random;
        _rate = options.FailureInjectionRate;
        _types = options.FailureTypes.Count > 0 ? [.. options.FailureTypes] : AllTypes;
    }

    /// <summary>Decides whether this request fails, and with which error.</summary>
    public ApiError? Draw()
    {
        if (_rate <= 0)
        {
            return null;
        }

        FailureType type;
        lock (_lock)
        {
            if (_random.NextDouble() * 100.0 >= _rate)
            {
                return null;
            }

            type = _types[_random.Next(_types.Length)];
        }

        return type switch
        {
            FailureType.RateLimit => new ApiError(429, "RateLimitError", "Rate limit reached (injected failure)."),
            FailureType.InvalidApiKey => new ApiError(401, "AuthenticationError", "Incorrect API key provided (injected failure)."),
            FailureType.ContextLength => ApiError.BadRequest(
                $"This model's maximum context length is {_options.MaxModelLen} tokens. However, you requested more (injected failure).", "messages"),
            FailureType.ServerError => new ApiError(500, "InternalServerError", "Internal server error (injected failure)."),
            FailureType.InvalidRequest => ApiError.BadRequest("Invalid request (injected failure)."),
            FailureType.ModelNotFound => ApiError.ModelNotFound(_options.ServedModelNames[0] + " (injected failure)"),
            _ => ApiError.Unavailable("The server is overloaded (injected failure)."),
        };
    }
}

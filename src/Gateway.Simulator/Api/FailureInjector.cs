using Gateway.Simulator.Options;

namespace Gateway.Simulator.Api;

/// <summary>
/// Answers a configured share of API requests with an error, as a sick or overloaded replica would, so the
/// gateway's retries, ejection and error paths can be exercised. Draws come from the seeded generator. The share and
/// the kinds start as the command line set them; with <c>--failure-control</c> a drill changes them while the
/// simulator runs (<see cref="Change"/>), and each request reads them once, so a change never splits one.
/// </summary>
internal sealed class FailureInjector
{
    private readonly Lock _lock = new();
    private readonly Random _random;
    private readonly SimulatorOptions _options;
    private volatile FailureSettings _settings;

    public FailureInjector(SimulatorOptions options, Random random)
    {
        _options = options;
        _random = random;
        _settings = new FailureSettings(options.FailureInjectionRate, options.FailureTypes);
    }

    /// <summary>What is injected now.</summary>
    public FailureSettings Settings => _settings;

    /// <summary>Injects <paramref name="settings"/> from the next request on.</summary>
    public void Change(FailureSettings settings) => _settings = settings;

    /// <summary>Decides whether this request fails, and with which error.</summary>
    public ApiError? Draw()
    {
        var settings = _settings;
        if (settings.Rate <= 0)
        {
            return null;
        }

        FailureType type;
        lock (_lock)
        {
            if (_random.NextDouble() * 100.0 >= settings.Rate)
            {
                return null;
            }

            var types = settings.DrawnFrom;
            type = types[_random.Next(types.Count)];
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

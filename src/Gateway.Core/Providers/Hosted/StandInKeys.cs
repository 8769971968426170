using Gateway.Configuration;

namespace Gateway.Providers.Hosted;

/// <summary>
/// The key each stand-in provider is started with (as <c>VLLM_API_KEY</c>): the very key the gateway sends its pool,
/// whether the pool names it (<see cref="ProviderSourceOptions.ApiKeyEnv"/>, <see cref="ProviderSourceOptions.ApiKeyFile"/>)
/// or it was made at start. The composition hands it over from where keys are read, so the providers need not know the
/// forwarding and no key is read twice.
/// </summary>
internal sealed class StandInKeys(Func<PoolOptions, string?> keyFor)
{
    /// <summary>The key of <paramref name="pool"/>, or null when its API asks for none.</summary>
    public string? For(PoolOptions pool) => keyFor(pool);
}

using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers.Hosted;

namespace Gateway.Forwarding;

/// <summary>
/// Each pool's backend key, the one its replicas ask for (vLLM's <c>--api-key</c>, a hosted API's key), read once at start
/// from <see cref="PoolOptions.BackendKeyEnv"/> or <see cref="PoolOptions.BackendKeyFile"/> (a provider's
/// <see cref="ProviderSourceOptions.ApiKeyEnv"/> or <see cref="ProviderSourceOptions.ApiKeyFile"/>; made at start for a
/// stand-in that names none) and sent to the pool's replicas as
/// <c>Authorization: Bearer</c> in place of the client's key, which never reaches a replica. The keys live only here:
/// never logged, never in an answer, <c>/admin/status</c> or an exception message, which name the variable or the file.
/// </summary>
internal sealed class BackendKeys
{
    private readonly Dictionary<PoolOptions, string> _authorizations;
    private readonly Dictionary<PoolOptions, string> _keys;

    private BackendKeys(Dictionary<PoolOptions, string> keys)
    {
        _keys = keys;
        _authorizations = keys.ToDictionary(k => k.Key, k => "Bearer " + k.Value);
    }

    /// <summary>No pool has a key.</summary>
    public static BackendKeys None { get; } = new([]);

    /// <summary>
    /// The keys of every pool of <paramref name="options"/> (which are valid) that names one; throws
    /// <see cref="GatewayConfigurationException"/> naming each key path whose variable is unset or empty, or whose file
    /// cannot be read, is empty, or holds what a header cannot carry.
    /// </summary>
    public static BackendKeys Read(GatewayOptions options, Func<string, string?>? environment = null, ProviderTrust? trust = null)
    {
        var keys = new Dictionary<PoolOptions, string>();
        var errors = new List<string>();
        for (var s = 0; s < options.Services.Count; s++)
        {
            var pools = options.Services[s].Pools;
            for (var p = 0; p < pools.Count; p++)
            {
                var pool = pools[p];
                var path = $"{GatewayOptions.SectionName}:Services:{s}:Pools:{p}";
                if (ReadKey(pool, path, environment ?? Environment.GetEnvironmentVariable, errors) is { } key)
                {
                    keys[pool] = key;
                }
                else if (trust?.StandInFor(pool)?.ApiKey is { } made)
                {
                    // A stand-in the gateway starts itself gets a key made for this run, so it is never reached without one.
                    keys[pool] = made;
                }
            }
        }

        return errors.Count > 0 ? throw new GatewayConfigurationException(errors) : new BackendKeys(keys);
    }

    /// <summary>The <c>Authorization</c> value for <paramref name="pool"/>'s replicas, or null when they ask for no key.</summary>
    public string? AuthorizationFor(Pool pool) => _authorizations.Count == 0 ? null : _authorizations.GetValueOrDefault(pool.Options);

    /// <summary>The key itself, for a stand-in provider the gateway starts (it gets it as <c>VLLM_API_KEY</c>); null when the pool has none.</summary>
    internal string? KeyFor(PoolOptions pool) => _keys.GetValueOrDefault(pool);

    private static string? ReadKey(PoolOptions pool, string path, Func<string, string?> environment, List<string> errors)
    {
        string? key;
        string source;
        var (keyFile, keyEnv, fileKey, envKey) = pool.Provider is { } provider
            ? (provider.ApiKeyFile, provider.ApiKeyEnv, $"{path}:Provider:ApiKeyFile", $"{path}:Provider:ApiKeyEnv")
            : (pool.BackendKeyFile, pool.BackendKeyEnv, $"{path}:BackendKeyFile", $"{path}:BackendKeyEnv");
        if (keyFile is { } file)
        {
            source = fileKey;
            try
            {
                key = File.ReadAllText(file).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The exception's message names the file and the reason, never its content.
                errors.Add($"{source}: cannot read the pool's backend key from '{file}': {e.Message}");
                return null;
            }

            if (key.Length == 0)
            {
                errors.Add($"{source}: the backend key file '{file}' is empty");
                return null;
            }
        }
        else if (keyEnv is { } variable)
        {
            source = envKey;
            key = environment(variable)?.Trim();
            if (string.IsNullOrEmpty(key))
            {
                errors.Add($"{source}: the environment variable '{variable}' that should hold the pool's backend key is not set or empty");
                return null;
            }
        }
        else
        {
            return null;
        }

        // A line break or another control character inside would split or break the header; the key is not shown.
        foreach (var c in key)
        {
            if (char.IsControl(c) || c > '\x7e')
            {
                errors.Add($"{source}: the backend key holds a control or non-ASCII character, which an Authorization header cannot carry");
                return null;
            }
        }

        return key;
    }
}

using Gateway.Configuration;
using Gateway.Model;

namespace Gateway.Forwarding;

/// <summary>
/// Each pool's backend key, the one its replicas ask for (vLLM's <c>--api-key</c>), read once at start from
/// <see cref="PoolOptions.BackendKeyEnv"/> or <see cref="PoolOptions.BackendKeyFile"/> and sent to the pool's replicas as
/// <c>Authorization: Bearer</c> in place of the client's key, which never reaches a replica. The keys live only here:
/// never logged, never in an answer, <c>/admin/status</c> or an exception message, which name the variable or the file.
/// </summary>
internal sealed class BackendKeys
{
    private readonly Dictionary<PoolOptions, string> _authorizations;

    private BackendKeys(Dictionary<PoolOptions, string> authorizations) => _authorizations = authorizations;

    /// <summary>No pool has a key.</summary>
    public static BackendKeys None { get; } = new([]);

    /// <summary>
    /// The keys of every pool of <paramref name="options"/> (which are valid) that names one; throws
    /// <see cref="GatewayConfigurationException"/> naming each key path whose variable is unset or empty, or whose file
    /// cannot be read, is empty, or holds what a header cannot carry.
    /// </summary>
    public static BackendKeys Read(GatewayOptions options, Func<string, string?>? environment = null)
    {
        var authorizations = new Dictionary<PoolOptions, string>();
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
                    authorizations[pool] = "Bearer " + key;
                }
            }
        }

        return errors.Count > 0 ? throw new GatewayConfigurationException(errors) : new BackendKeys(authorizations);
    }

    /// <summary>The <c>Authorization</c> value for <paramref name="pool"/>'s replicas, or null when they ask for no key.</summary>
    public string? AuthorizationFor(Pool pool) => _authorizations.Count == 0 ? null : _authorizations.GetValueOrDefault(pool.Options);

    private static string? ReadKey(PoolOptions pool, string path, Func<string, string?> environment, List<string> errors)
    {
        string? key;
        string source;
        if (pool.BackendKeyFile is { } file)
        {
            source = $"{path}:BackendKeyFile";
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
        else if (pool.BackendKeyEnv is { } variable)
        {
            source = $"{path}:BackendKeyEnv";
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

using System.Globalization;

namespace Gateway.Configuration;

/// <summary>
/// Checks a pool's role, its provider source (<see cref="ProviderSourceOptions"/>), its bridge and cost options, and a
/// service's budget; each message starts with the key path.
/// </summary>
internal static class ProviderOptionsValidator
{
    /// <summary>Adds a message for every bad value of <paramref name="pool"/>'s role, bridge and cost under <paramref name="path"/>.</summary>
    public static void CheckRole(List<string> errors, PoolOptions pool, string path)
    {
        if (pool.Role is { } role && !Enum.IsDefined(role))
        {
            errors.Add($"{path}:Role: must be Gpu, Bridge or Overflow");
        }
        else if (pool.Provider is null && pool.Role is PoolRole.Bridge or PoolRole.Overflow)
        {
            errors.Add($"{path}:Role: a {pool.Role} pool takes its requests from a hosted API; give it a Provider source");
        }
        else if (pool.Provider is not null && pool.Role is not (PoolRole.Bridge or PoolRole.Overflow))
        {
            errors.Add($"{path}:Role: a Provider pool is a Bridge (while cloud GPUs boot) or an Overflow (a last tier); say which");
        }

        if (pool.Bridge.MaxQueueWaitMs is < 0 or > 86_400_000)
        {
            errors.Add($"{path}:Bridge:MaxQueueWaitMs: must be 0 to 86400000, got {pool.Bridge.MaxQueueWaitMs}");
        }

        var cost = pool.Cost;
        NotNegative(errors, $"{path}:Cost:PerReplicaHour", cost.PerReplicaHour);
        NotNegative(errors, $"{path}:Cost:PerMillionPromptTokens", cost.PerMillionPromptTokens);
        NotNegative(errors, $"{path}:Cost:PerMillionCompletionTokens", cost.PerMillionCompletionTokens);
        if (pool.Provider is not null && cost.PerReplicaHour > 0)
        {
            errors.Add($"{path}:Cost:PerReplicaHour: a Provider pool is priced per token (PerMillionPromptTokens, PerMillionCompletionTokens)");
        }
    }

    /// <summary>Adds a message for every bad value of the provider source <paramref name="provider"/> of <paramref name="pool"/>.</summary>
    public static void CheckSource(List<string> errors, PoolOptions pool, ProviderSourceOptions provider, string path)
    {
        var source = $"{path}:Provider";
        if (OptionsChecks.CheckUrl(errors, $"{source}:BaseUrl", provider.BaseUrl) is { } uri)
        {
            if (uri.Scheme != "https")
            {
                errors.Add($"{source}:BaseUrl: a provider is reached over https only, got '{provider.BaseUrl}'");
            }

            if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
            {
                errors.Add($"{source}:BaseUrl: must be a base URL without query, fragment or user, got '{provider.BaseUrl}'");
            }

            if (provider.StandIn is not null && !uri.IsLoopback)
            {
                errors.Add($"{source}:StandIn: a stand-in runs on this machine; BaseUrl must name a loopback host, got '{uri.Host}'");
            }
            else if (provider.StandIn is not null && uri.IsDefaultPort)
            {
                errors.Add($"{source}:BaseUrl: a stand-in listens on BaseUrl's port; give one other than 443, e.g. 'https://127.0.0.1:8443/v1'");
            }
        }

        if (provider.CaFile is { Length: 0 })
        {
            errors.Add($"{source}:CaFile: must name a PEM file, or be left out to trust the system's roots");
        }
        else if (provider.CaFile is not null && provider.StandIn is not null)
        {
            errors.Add($"{source}:CaFile: a stand-in's certificate is made and trusted by the gateway; leave CaFile out");
        }

        if (provider.ApiKeyEnv is not null && provider.ApiKeyFile is not null)
        {
            errors.Add($"{source}:ApiKeyFile: give the provider's key from a file or from ApiKeyEnv, not both");
        }

        if (pool.BackendKeyEnv is not null || pool.BackendKeyFile is not null)
        {
            errors.Add($"{path}:BackendKeyEnv: a Provider pool's key is Provider:ApiKeyEnv or Provider:ApiKeyFile");
        }

        foreach (var (model, mapped) in provider.ModelMap)
        {
            if (string.IsNullOrWhiteSpace(mapped) || mapped.Any(char.IsControl) || mapped.Contains('"', StringComparison.Ordinal) || mapped.Contains('\\', StringComparison.Ordinal))
            {
                errors.Add($"{source}:ModelMap:{model}: must be a model name without quotes, backslashes or control characters, got '{mapped}'");
            }
        }

        if (provider.MaxConcurrency < 1)
        {
            errors.Add($"{source}:MaxConcurrency: must be at least 1, got {provider.MaxConcurrency}");
        }

        OptionsChecks.Positive(errors, $"{source}:AttemptTimeoutSeconds", provider.AttemptTimeoutSeconds);
        OptionsChecks.Positive(errors, $"{source}:BreakSeconds", provider.BreakSeconds);
        if (provider.MaxRetries is < 0 or > 10)
        {
            errors.Add($"{source}:MaxRetries: must be 0 to 10, got {provider.MaxRetries}");
        }

        if (provider.StandIn is { Command.Length: 0 })
        {
            errors.Add($"{source}:StandIn:Command: must name the program to run");
        }

        if (pool.Scaling is not null)
        {
            errors.Add($"{path}:Scaling: a Provider pool is not scaled; its capacity is Provider:MaxConcurrency");
        }

        if (pool.Location == PoolLocation.OnPrem)
        {
            errors.Add($"{path}:Location: a hosted API is not on-prem; leave Location out or say Cloud");
        }
    }

    /// <summary>Adds a message for a bad <paramref name="budget"/> under <paramref name="path"/> (<c>…:Services:0</c>).</summary>
    public static void CheckBudget(List<string> errors, BudgetOptions budget, string path)
    {
        if (!(budget.MaxPerHour > 0) || double.IsInfinity(budget.MaxPerHour))
        {
            errors.Add($"{path}:Budget:MaxPerHour: must be a positive amount, got {budget.MaxPerHour.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static void NotNegative(List<string> errors, string key, double value)
    {
        if (!(value >= 0) || double.IsInfinity(value))
        {
            errors.Add($"{key}: must be 0 or a positive amount, got {value.ToString(CultureInfo.InvariantCulture)}");
        }
    }
}

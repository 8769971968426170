namespace Gateway.Configuration;

/// <summary>
/// Checks one <see cref="PoolOptions"/>: its name, priority and capacity, that it has exactly one replica source
/// (Static, Process, Kubernetes or Provider), and, through their own validators, its health, load, source and scaling
/// options; each message starts with the key path.
/// </summary>
internal static class PoolOptionsValidator
{
    /// <summary>
    /// Adds a message to <paramref name="errors"/> for every bad value under <paramref name="path"/> (<c>…:Pools:1</c>).
    /// <paramref name="namesInService"/> holds the names of the service's pools checked before this one; a good name
    /// is added to it, so a second pool of the same name is reported where it appears.
    /// </summary>
    public static void Check(List<string> errors, PoolOptions pool, string path, HashSet<string> namesInService)
    {
        if (!OptionsChecks.IsDnsLabel(pool.Name))
        {
            errors.Add($"{path}:Name: must be a DNS label (lower-case letters, digits, '-'), got '{pool.Name}'");
        }
        else if (!namesInService.Add(pool.Name))
        {
            errors.Add($"{path}:Name: pool '{pool.Name}' appears twice in the service");
        }

        if (pool.Priority < 0)
        {
            errors.Add($"{path}:Priority: must be 0 or more, got {pool.Priority}");
        }

        if (pool.CapacityPerReplica < 1)
        {
            errors.Add($"{path}:CapacityPerReplica: must be at least 1, got {pool.CapacityPerReplica}");
        }

        if (pool.BackendKeyEnv is not null && pool.BackendKeyFile is not null)
        {
            errors.Add($"{path}:BackendKeyFile: give the backend key from a file or from BackendKeyEnv, not both");
        }

        HealthOptionsValidator.Check(errors, pool.Health, $"{path}:Health");
        ProviderOptionsValidator.CheckRole(errors, pool, path);
        CheckSource(errors, pool, path);
        LoadOptionsValidator.Check(errors, pool.Load, $"{path}:Load");
        if (pool.Scaling is { } scaling && pool.Provider is null)
        {
            ScalingOptionsValidator.Check(errors, scaling, $"{path}:Scaling");
            ScalingOptionsValidator.CheckScaler(errors, pool, path);
        }
    }

    private static void CheckSource(List<string> errors, PoolOptions pool, string path)
    {
        var sources = (pool.Static.Count > 0 ? 1 : 0) + (pool.Process is null ? 0 : 1) + (pool.Kubernetes is null ? 0 : 1) + (pool.Provider is null ? 0 : 1);
        if (sources != 1)
        {
            // The source's own values are not checked then: which one the operator meant is unknown.
            errors.Add($"{path}: give exactly one replica source: Static (addresses), Process (a command), Kubernetes (a service's pods) or Provider (a hosted API)");
            return;
        }

        if (pool.Provider is { } provider)
        {
            ProviderOptionsValidator.CheckSource(errors, pool, provider, path);
        }

        if (pool.Kubernetes is { } kubernetes)
        {
            KubernetesSourceOptionsValidator.Check(errors, kubernetes, $"{path}:Kubernetes");
        }

        // Static is a plain list of addresses, not an options class of its own, so the pool checks it.
        for (var i = 0; i < pool.Static.Count; i++)
        {
            var uri = OptionsChecks.CheckUrl(errors, $"{path}:Static:{i}", pool.Static[i]);
            if (uri is not null && uri.AbsolutePath != "/")
            {
                errors.Add($"{path}:Static:{i}: must be a server root such as http://10.0.0.5:8000, without a path, got '{pool.Static[i]}'");
            }
        }

        if (pool.Process is { } process)
        {
            ProcessSourceOptionsValidator.Check(errors, process, $"{path}:Process", pool.Scaling?.MaxReplicas ?? 0);
        }
    }
}

namespace Gateway.Configuration;

/// <summary>
/// Checks one <see cref="ServiceOptions"/>: its names, host names and models (also against the services checked
/// before it), its balancing mode and target utilisation, and, through their own validators, its queue and pools;
/// each message starts with the key path.
/// </summary>
internal static class ServiceOptionsValidator
{
    /// <summary>
    /// Adds a message to <paramref name="errors"/> for every bad value under <paramref name="path"/> (<c>…:Services:0</c>).
    /// <paramref name="hosts"/> and <paramref name="models"/> map the host names and models of the services checked
    /// before this one to the key that claimed them; this service's are added, so a host or model claimed twice is
    /// reported where it appears the second time. <paramref name="domain"/> is the gateway's domain, which makes the
    /// service's own host name.
    /// </summary>
    public static void Check(
        List<string> errors, ServiceOptions service, string path, string domain, Dictionary<string, string> hosts, Dictionary<string, string> models)
    {
        if (!OptionsChecks.IsDnsLabel(service.Name))
        {
            errors.Add($"{path}:Name: must be a DNS label (lower-case letters, digits, '-'), got '{service.Name}'");
        }

        if (!OptionsChecks.IsDnsLabel(service.Namespace))
        {
            errors.Add($"{path}:Namespace: must be a DNS label (lower-case letters, digits, '-'), got '{service.Namespace}'");
        }

        // A request is routed by its Host first: two services answering to one host name would make the route ambiguous.
        var ownHosts = new List<(string Host, string Key)> { ($"{service.Name}-{service.Namespace}.{domain}", $"{path}:Name") };
        for (var h = 0; h < service.Hosts.Count; h++)
        {
            var host = service.Hosts[h];
            if (string.IsNullOrWhiteSpace(host) || host.Contains(':', StringComparison.Ordinal) || host.Contains('/', StringComparison.Ordinal))
            {
                errors.Add($"{path}:Hosts:{h}: must be a host name without port or scheme, got '{host}'");
                continue;
            }

            ownHosts.Add((host, $"{path}:Hosts:{h}"));
        }

        foreach (var (host, key) in ownHosts)
        {
            if (!hosts.TryAdd(host, key))
            {
                errors.Add($"{key}: host '{host}' is already used by {hosts[host]}");
            }
        }

        // A request whose Host names no service is routed by its model, so a model too may belong to one service only.
        for (var m = 0; m < service.Models.Count; m++)
        {
            var model = service.Models[m];
            if (string.IsNullOrWhiteSpace(model))
            {
                errors.Add($"{path}:Models:{m}: must not be empty");
            }
            else if (!models.TryAdd(model, $"{path}:Models:{m}"))
            {
                errors.Add($"{path}:Models:{m}: model '{model}' is already served by {models[model]}");
            }
        }

        if (!Enum.IsDefined(service.Balancing))
        {
            errors.Add($"{path}:Balancing: must be SpillOver or RoundRobin");
        }

        QueueOptionsValidator.Check(errors, service.Queue, $"{path}:Queue");
        ScalingOptionsValidator.CheckTargetUtilization(errors, service.TargetUtilization, path);
        if (service.AssumedMaxTokens < 1)
        {
            errors.Add($"{path}:AssumedMaxTokens: must be at least 1, got {service.AssumedMaxTokens}");
        }

        if (service.Budget is { } budget)
        {
            ProviderOptionsValidator.CheckBudget(errors, budget, path);
        }

        if (service.Pools.Count == 0)
        {
            errors.Add($"{path}:Pools: at least one pool is needed");
        }

        var poolNames = new HashSet<string>(StringComparer.Ordinal);
        for (var p = 0; p < service.Pools.Count; p++)
        {
            PoolOptionsValidator.Check(errors, service.Pools[p], $"{path}:Pools:{p}", poolNames);
        }
    }
}

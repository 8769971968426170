using System.Globalization;
using Microsoft.Extensions.Options;

namespace Gateway.Configuration;

/// <summary>
/// Checks the whole configuration at start. Every message begins with the key path of the bad value
/// (<c>Gateway:Services:0:Pools:1:CapacityPerReplica</c>) so an operator can find it in the file or the
/// environment variable that set it.
/// </summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    private const string Root = GatewayOptions.SectionName;
    private const int MaxQueueWaitSeconds = 24 * 60 * 60;

    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var errors = Check(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Every problem found, each naming its key path; empty when the configuration is good.</summary>
    public static List<string> Check(GatewayOptions options)
    {
        var errors = new List<string>();
        var publicUri = CheckListener(errors, $"{Root}:PublicUrl", options.PublicUrl);
        var adminUri = CheckListener(errors, $"{Root}:AdminUrl", options.AdminUrl);
        if (publicUri is not null && adminUri is not null && publicUri.Port == adminUri.Port && publicUri.Port != 0)
        {
            errors.Add($"{Root}:AdminUrl: must use another port than {Root}:PublicUrl ({publicUri.Port}); the admin listener is never public");
        }

        if (string.IsNullOrWhiteSpace(options.Domain) || options.Domain.Contains(' ', StringComparison.Ordinal))
        {
            errors.Add($"{Root}:Domain: must be a DNS domain such as example.com, got '{options.Domain}'");
        }

        if (options.MaxRequestBodyBytes < 1024)
        {
            errors.Add($"{Root}:MaxRequestBodyBytes: must be at least 1024, got {options.MaxRequestBodyBytes}");
        }

        Positive(errors, $"{Root}:DrainTimeoutSeconds", options.DrainTimeoutSeconds);
        var forwarding = options.Forwarding;
        Positive(errors, $"{Root}:Forwarding:ConnectTimeoutSeconds", forwarding.ConnectTimeoutSeconds);
        Positive(errors, $"{Root}:Forwarding:FirstByteTimeoutSeconds", forwarding.FirstByteTimeoutSeconds);
        if (forwarding.MaxAttempts is < 1 or > 5)
        {
            errors.Add($"{Root}:Forwarding:MaxAttempts: must be between 1 and 5, got {forwarding.MaxAttempts}");
        }

        KubernetesClusterOptionsValidator.Check(errors, options.Kubernetes, $"{Root}:Kubernetes");
        if (options.Services.Count == 0)
        {
            errors.Add($"{Root}:Services: at least one service is needed");
        }

        var hosts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var models = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var s = 0; s < options.Services.Count; s++)
        {
            CheckService(errors, options, options.Services[s], $"{Root}:Services:{s}", hosts, models);
        }

        return errors;
    }

    private static void CheckService(
        List<string> errors, GatewayOptions options, ServiceOptions service, string path, Dictionary<string, string> hosts, Dictionary<string, string> models)
    {
        if (!IsDnsLabel(service.Name))
        {
            errors.Add($"{path}:Name: must be a DNS label (lower-case letters, digits, '-'), got '{service.Name}'");
        }

        if (!IsDnsLabel(service.Namespace))
        {
            errors.Add($"{path}:Namespace: must be a DNS label (lower-case letters, digits, '-'), got '{service.Namespace}'");
        }

        var ownHosts = new List<(string Host, string Key)> { ($"{service.Name}-{service.Namespace}.{options.Domain}", $"{path}:Name") };
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

        var queue = service.Queue;
        if (queue.MaxWaiting < 0)
        {
            errors.Add($"{path}:Queue:MaxWaiting: must be 0 or more, got {queue.MaxWaiting}");
        }

        Positive(errors, $"{path}:Queue:MaxWaitSeconds", queue.MaxWaitSeconds);
        if (queue.MaxWaitSeconds > MaxQueueWaitSeconds && !double.IsInfinity(queue.MaxWaitSeconds))
        {
            // Longer than a timer can run (about 49 days) would make every queued request fail; a day is plenty.
            errors.Add($"{path}:Queue:MaxWaitSeconds: must be at most {MaxQueueWaitSeconds} (a day), got {queue.MaxWaitSeconds.ToString(CultureInfo.InvariantCulture)}");
        }
        if (queue.RetryAfterSeconds < 1)
        {
            errors.Add($"{path}:Queue:RetryAfterSeconds: must be at least 1, got {queue.RetryAfterSeconds}");
        }

        ScalingOptionsValidator.CheckTargetUtilization(errors, service.TargetUtilization, path);
        if (service.Pools.Count == 0)
        {
            errors.Add($"{path}:Pools: at least one pool is needed");
        }

        var poolNames = new HashSet<string>(StringComparer.Ordinal);
        for (var p = 0; p < service.Pools.Count; p++)
        {
            var pool = service.Pools[p];
            var poolPath = $"{path}:Pools:{p}";
            if (!IsDnsLabel(pool.Name))
            {
                errors.Add($"{poolPath}:Name: must be a DNS label (lower-case letters, digits, '-'), got '{pool.Name}'");
            }
            else if (!poolNames.Add(pool.Name))
            {
                errors.Add($"{poolPath}:Name: pool '{pool.Name}' appears twice in the service");
            }

            if (pool.Priority < 0)
            {
                errors.Add($"{poolPath}:Priority: must be 0 or more, got {pool.Priority}");
            }

            if (pool.CapacityPerReplica < 1)
            {
                errors.Add($"{poolPath}:CapacityPerReplica: must be at least 1, got {pool.CapacityPerReplica}");
            }

            CheckHealth(errors, pool.Health, $"{poolPath}:Health");
            CheckSource(errors, pool, poolPath);
            LoadOptionsValidator.Check(errors, pool.Load, $"{poolPath}:Load");
            if (pool.Scaling is { } scaling)
            {
                ScalingOptionsValidator.Check(errors, scaling, $"{poolPath}:Scaling");
                ScalingOptionsValidator.CheckScaler(errors, pool, poolPath);
            }
        }
    }

    private static void CheckSource(List<string> errors, PoolOptions pool, string path)
    {
        var sources = (pool.Static.Count > 0 ? 1 : 0) + (pool.Process is null ? 0 : 1) + (pool.Kubernetes is null ? 0 : 1);
        if (sources != 1)
        {
            errors.Add($"{path}: give exactly one replica source: Static (addresses), Process (a command) or Kubernetes (a service's pods)");
            return;
        }

        if (pool.Kubernetes is { } kubernetes)
        {
            KubernetesSourceOptionsValidator.Check(errors, kubernetes, $"{path}:Kubernetes");
        }

        for (var i = 0; i < pool.Static.Count; i++)
        {
            var uri = CheckUrl(errors, $"{path}:Static:{i}", pool.Static[i]);
            if (uri is not null && uri.AbsolutePath != "/")
            {
                errors.Add($"{path}:Static:{i}: must be a server root such as http://10.0.0.5:8000, without a path, got '{pool.Static[i]}'");
            }
        }

        if (pool.Process is { } process)
        {
            if (string.IsNullOrWhiteSpace(process.Command))
            {
                errors.Add($"{path}:Process:Command: must name a program to run");
            }

            if (!process.Arguments.Exists(a => a.Contains("{port}", StringComparison.Ordinal)))
            {
                errors.Add($"{path}:Process:Arguments: must contain {{port}}, where the replica's port goes");
            }

            if (process.Replicas < 0)
            {
                errors.Add($"{path}:Process:Replicas: must be 0 or more, got {process.Replicas}");
            }

            Positive(errors, $"{path}:Process:ReadyTimeoutSeconds", process.ReadyTimeoutSeconds);
            Positive(errors, $"{path}:Process:StopTimeoutSeconds", process.StopTimeoutSeconds);
            CheckPortRange(errors, pool, process, path);
        }
    }

    private static Uri? CheckListener(List<string> errors, string key, string value)
    {
        var uri = CheckUrl(errors, key, value);
        if (uri is null)
        {
            return null;
        }

        if (uri.Scheme != "http")
        {
            errors.Add($"{key}: the gateway listens on plain http (put TLS in front of it), got '{value}'");
            return null;
        }

        if (uri.Host != "localhost" && !System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out _))
        {
            errors.Add($"{key}: the host must be an IP address (0.0.0.0 for all) or localhost, got '{uri.Host}'");
            return null;
        }

        return uri;
    }

    private static Uri? CheckUrl(List<string> errors, string key, string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            errors.Add($"{key}: must be an absolute http:// or https:// URL, got '{value}'");
            return null;
        }

        return uri;
    }

    private static void Positive(List<string> errors, string key, double value)
    {
        if (!(value > 0) || double.IsInfinity(value))
        {
            errors.Add($"{key}: must be a positive number of seconds, got {value.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static void CheckHealth(List<string> errors, HealthOptions health, string path)
    {
        TimerSeconds(errors, $"{path}:ProbeIntervalSeconds", health.ProbeIntervalSeconds);
        TimerSeconds(errors, $"{path}:ProbeTimeoutSeconds", health.ProbeTimeoutSeconds);
        TimerSeconds(errors, $"{path}:MaxBackoffSeconds", health.MaxBackoffSeconds);
        if (health.MaxBackoffSeconds < health.ProbeIntervalSeconds)
        {
            errors.Add($"{path}:MaxBackoffSeconds: must be at least ProbeIntervalSeconds ({health.ProbeIntervalSeconds.ToString(CultureInfo.InvariantCulture)}), got {health.MaxBackoffSeconds.ToString(CultureInfo.InvariantCulture)}");
        }

        if (health.UnhealthyAfterFailures is < 1 or > 100)
        {
            errors.Add($"{path}:UnhealthyAfterFailures: must be between 1 and 100, got {health.UnhealthyAfterFailures}");
        }
    }

    /// <summary>A period a timer waits: positive, and at most a day (timers run at most about 49 days).</summary>
    private static void TimerSeconds(List<string> errors, string key, double value)
    {
        Positive(errors, key, value);
        if (value > MaxQueueWaitSeconds && !double.IsInfinity(value))
        {
            errors.Add($"{key}: must be at most {MaxQueueWaitSeconds} (a day), got {value.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static bool IsDnsLabel(string value)
    {
        if (value.Length is 0 or > 63 || value[0] == '-' || value[^1] == '-')
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A Process pool's port range: none (both 0), or ports 1..65535 in order, with room for every replica the pool may run.</summary>
    private static void CheckPortRange(List<string> errors, PoolOptions pool, ProcessSourceOptions process, string path)
    {
        if (process.FirstPort == 0 && process.LastPort == 0)
        {
            return;
        }

        if (process.FirstPort is < 1 or > 65535)
        {
            errors.Add($"{path}:Process:FirstPort: must be a port from 1 to 65535 (or 0 with LastPort 0 for any free port), got {process.FirstPort}");
        }
        else if (process.LastPort < process.FirstPort || process.LastPort > 65535)
        {
            errors.Add($"{path}:Process:LastPort: must be from FirstPort ({process.FirstPort}) to 65535, got {process.LastPort}");
        }
        else
        {
            var most = Math.Max(process.Replicas, pool.Scaling?.MaxReplicas ?? 0);
            if (process.LastPort - process.FirstPort + 1 < most)
            {
                errors.Add($"{path}:Process:LastPort: the range {process.FirstPort}-{process.LastPort} has fewer ports than the {most} replicas the pool may run");
            }
        }
    }
}

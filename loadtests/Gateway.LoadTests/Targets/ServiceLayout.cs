using System.Text.Json;

namespace Gateway.LoadTests.Targets;

/// <summary>
/// A service's pools as the gateway's <c>/admin/status</c> describes them. Of the GPU pools, those of the lowest priority
/// number are the on-prem tier and every other one is the cloud (what is paid per replica-second); a pool of another
/// role (a bridge or overflow provider, a hosted API paid per token) is neither.
/// </summary>
internal sealed record ServiceLayout(string Service, string Balancing, IReadOnlyList<PoolLayout> Pools)
{
    public IEnumerable<PoolLayout> Gpu => Pools.Where(p => p.Role == "gpu");

    public IEnumerable<PoolLayout> OnPrem => Gpu.Where(p => p.Priority == Gpu.Min(q => q.Priority));

    public IEnumerable<PoolLayout> Cloud => Gpu.Where(p => p.Priority != Gpu.Min(q => q.Priority));

    public IEnumerable<PoolLayout> Providers => Pools.Where(p => p.Role != "gpu");

    /// <summary>Reads the layout of the service that <paramref name="host"/> names (<c>{service}-{namespace}.</c>), or of the only service.</summary>
    public static async Task<ServiceLayout> ReadAsync(Uri adminAddress, string? host, CancellationToken cancellationToken)
    {
        using var admin = LoadClient.Create(TimeSpan.FromSeconds(10));
        using var status = JsonDocument.Parse(await admin.GetStringAsync(new Uri(adminAddress, "admin/status"), cancellationToken));
        var services = status.RootElement.GetProperty("services").EnumerateArray().ToList();
        var service = services.Count == 1
            ? services[0]
            : services.FirstOrDefault(s => host is not null && host.StartsWith(
                $"{s.GetProperty("name").GetString()}-{s.GetProperty("namespace").GetString()}.", StringComparison.OrdinalIgnoreCase));
        if (service.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidOperationException($"no service of the gateway answers to host '{host}'");
        }

        var pools = service.GetProperty("pools").EnumerateArray().Select(p => new PoolLayout(
            p.GetProperty("name").GetString()!,
            p.GetProperty("priority").GetInt32(),
            p.GetProperty("capacityPerReplica").GetInt32(),
            p.GetProperty("minReplicas").GetInt32(),
            p.TryGetProperty("role", out var role) ? role.GetString()! : "gpu")).ToList();
        return new ServiceLayout(service.GetProperty("name").GetString()!, service.GetProperty("balancing").GetString()!, pools);
    }
}

/// <summary>The gateway's own record of scale decisions (<c>/admin/status</c> keeps the recent ones), exact to the millisecond.</summary>
internal static class ScaleEventLog
{
    /// <summary>When the first scale-out of one of <paramref name="pools"/> of <paramref name="service"/> at or after <paramref name="since"/> was decided, or null.</summary>
    public static async Task<DateTimeOffset?> FirstScaleOutAsync(Uri adminAddress, string service, IReadOnlyCollection<string> pools, DateTimeOffset since, CancellationToken cancellationToken)
    {
        using var admin = LoadClient.Create(TimeSpan.FromSeconds(10));
        using var status = JsonDocument.Parse(await admin.GetStringAsync(new Uri(adminAddress, "admin/status"), cancellationToken));
        DateTimeOffset? first = null;
        foreach (var s in status.RootElement.GetProperty("services").EnumerateArray())
        {
            if (s.GetProperty("name").GetString() != service || !s.TryGetProperty("scaleEvents", out var events))
            {
                continue;
            }

            foreach (var e in events.EnumerateArray())
            {
                var at = e.GetProperty("at").GetDateTimeOffset();
                if (e.GetProperty("direction").GetString() == "out" && pools.Contains(e.GetProperty("pool").GetString()) && at >= since && (first is null || at < first))
                {
                    first = at;
                }
            }
        }

        return first;
    }
}

/// <summary>One pool: its name, priority, slots per replica, minimum replicas and role (<c>gpu</c>, <c>bridge</c>, <c>overflow</c>).</summary>
internal sealed record PoolLayout(string Name, int Priority, int CapacityPerReplica, int MinReplicas, string Role = "gpu");

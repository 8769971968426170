using Gateway.Configuration;

namespace Gateway.Model;

/// <summary>
/// An application the gateway serves, as its requests carry it from authentication to the queue, placement and the
/// metrics: its name (a metric label from configuration only), class, residency and the services it may use.
/// </summary>
public sealed class Tenant
{
    private readonly HashSet<string>? _services;

    /// <summary>The tenant <paramref name="options"/> describe.</summary>
    public Tenant(TenantOptions options)
    {
        Options = options;
        Name = options.Name;
        Priority = options.Priority;
        Residency = options.Residency;
        _services = options.Services.Count == 0 ? null : new HashSet<string>(options.Services, StringComparer.Ordinal);
    }

    /// <summary>Every caller when the gateway asks for no key: class Standard, anywhere, every service, no limits.</summary>
    public static Tenant Anonymous { get; } = new(new TenantOptions { Name = TenantOptionsValidator.Anonymous });

    /// <summary>The tenant's configuration (its limits among it).</summary>
    public TenantOptions Options { get; }

    /// <summary>Tenant name.</summary>
    public string Name { get; }

    /// <summary>Its requests' class.</summary>
    public PriorityClass Priority { get; }

    /// <summary>Where its requests may run.</summary>
    public Residency Residency { get; }

    /// <summary>Whether it may use <paramref name="service"/>.</summary>
    public bool MayUse(InferenceService service) => _services is null || _services.Contains(service.Name);

    /// <summary>Whether its requests may run on <paramref name="pool"/>.</summary>
    public bool MayRunOn(Pool pool) => Residency == Residency.Any || (pool.Location == PoolLocation.OnPrem && !pool.IsProvider);
}

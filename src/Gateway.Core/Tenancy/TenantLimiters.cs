using System.Collections.Frozen;
using Gateway.Model;

namespace Gateway.Tenancy;

/// <summary>
/// The limiters of the configured tenants that have limits, made once at start: the state is bounded by the
/// configuration, whatever keys callers present (an unknown key never gets this far), and read without a lock.
/// </summary>
internal sealed class TenantLimiters : IDisposable
{
    private readonly FrozenDictionary<Tenant, TenantLimiter> _limiters;

    public TenantLimiters(TenantDirectory directory, TimeProvider time)
    {
        var limiters = new Dictionary<Tenant, TenantLimiter>();
        foreach (var tenant in directory.Tenants)
        {
            var limits = tenant.Options.Limits;
            if (limits.RequestsPerMinute is not null || limits.TokensPerMinute is not null || limits.MaxConcurrent is not null)
            {
                limiters.Add(tenant, new TenantLimiter(tenant, time));
            }
        }

        _limiters = limiters.ToFrozenDictionary();
    }

    /// <summary><paramref name="tenant"/>'s limiter, or null when it has no limit (<see cref="Tenant.Anonymous"/> has none).</summary>
    public TenantLimiter? For(Tenant tenant) => _limiters.GetValueOrDefault(tenant);

    public void Dispose()
    {
        foreach (var limiter in _limiters.Values)
        {
            limiter.Dispose();
        }
    }
}

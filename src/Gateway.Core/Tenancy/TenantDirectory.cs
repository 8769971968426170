using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Primitives;

namespace Gateway.Tenancy;

/// <summary>
/// Who a request comes from: with <see cref="AuthMode.None"/> everyone is <see cref="Tenant.Anonymous"/>; with
/// <see cref="AuthMode.ApiKeys"/> the <c>Authorization: Bearer</c> key's SHA-256 is compared, in fixed time, with every
/// configured hash (no early exit, so the time says nothing of which came close). The key itself is hashed and
/// dropped; it is never kept, logged or forwarded.
/// </summary>
internal sealed class TenantDirectory
{
    private readonly (byte[] Hash, Tenant Tenant)[] _keys;

    /// <summary>The tenants and keys of <paramref name="options"/>, which are valid.</summary>
    public TenantDirectory(GatewayOptions options)
    {
        RequiresKey = options.Auth.Mode == AuthMode.ApiKeys;
        Tenants = [.. options.Tenants.Select(t => new Tenant(t))];
        Attributable = RequiresKey ? Tenants : [Tenant.Anonymous];
        _keys = [.. Tenants.SelectMany(t => t.Options.ApiKeyHashes.Select(h => (Convert.FromHexString(h), t)))];
    }

    /// <summary>Whether every request needs a key.</summary>
    public bool RequiresKey { get; }

    /// <summary>The configured tenants (without <see cref="Tenant.Anonymous"/>), in configuration order.</summary>
    public IReadOnlyList<Tenant> Tenants { get; }

    /// <summary>
    /// Every tenant <see cref="Authenticate"/> can find, so every one a request is counted for: the configured tenants
    /// when a key is required, else <see cref="Tenant.Anonymous"/> alone.
    /// </summary>
    public IReadOnlyList<Tenant> Attributable { get; }

    /// <summary>
    /// The tenant whose key <paramref name="authorization"/> carries, <see cref="Tenant.Anonymous"/> when no key is
    /// required, or null when one is required and missing or unknown.
    /// </summary>
    public Tenant? Authenticate(StringValues authorization)
    {
        if (!RequiresKey)
        {
            return Tenant.Anonymous;
        }

        Span<byte> presented = stackalloc byte[KeyDigest.Size];
        if (!KeyDigest.TryBearer(authorization, presented))
        {
            return null;
        }

        Tenant? found = null;
        foreach (var (hash, tenant) in _keys)
        {
            if (KeyDigest.Equal(presented, hash))
            {
                found = tenant;
            }
        }

        return found;
    }

    /// <summary>The lower-case hex SHA-256 of <paramref name="key"/>, as <see cref="TenantOptions.ApiKeyHashes"/> holds it.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(KeyDigest.Of(key.Trim()));
}

namespace Gateway.Configuration;

/// <summary>How callers of the public listener prove who they are.</summary>
public sealed class AuthOptions
{
    /// <summary><see cref="AuthMode.None"/> (the demo): every caller is the tenant <c>anonymous</c>; <see cref="AuthMode.ApiKeys"/>: a key on every request.</summary>
    public AuthMode Mode { get; set; } = AuthMode.None;
}

/// <summary>Whether the public listener asks for API keys.</summary>
public enum AuthMode
{
    /// <summary>No keys: every caller is the tenant <c>anonymous</c> of class <see cref="PriorityClass.Standard"/>.</summary>
    None,

    /// <summary><c>Authorization: Bearer &lt;key&gt;</c> on every request, the key one of a tenant's.</summary>
    ApiKeys,
}

/// <summary>
/// One application sharing the gateway: its API keys (as SHA-256 hashes, never the keys), its class, its limits, the
/// services it may use and where its requests may run.
/// </summary>
public sealed class TenantOptions
{
    /// <summary>Tenant name, e.g. <c>chat</c>; the <c>tenant</c> label of the per-tenant metrics.</summary>
    public string Name { get; set; } = "";

    /// <summary>Lower-case hex SHA-256 of each of the tenant's keys (<c>dotnet run --project src/Gateway -- hash-key</c> prints one).</summary>
    public List<string> ApiKeyHashes { get; set; } = [];

    /// <summary>Its requests' class in every service queue: a higher class is always placed first.</summary>
    public PriorityClass Priority { get; set; } = PriorityClass.Standard;

    /// <summary>Its requests, tokens and concurrency; an absent limit is no limit.</summary>
    public TenantLimitsOptions Limits { get; set; } = new();

    /// <summary>Names of the services it may use; empty: all.</summary>
    public List<string> Services { get; set; } = [];

    /// <summary>Where its requests may run: <see cref="Residency.OnPremOnly"/> never goes to a cloud pool.</summary>
    public Residency Residency { get; set; } = Residency.Any;
}

/// <summary>A tenant's limits, each per tenant across services; null is no limit.</summary>
public sealed class TenantLimitsOptions
{
    /// <summary>Requests it may start per minute.</summary>
    public int? RequestsPerMinute { get; set; }

    /// <summary>Tokens (prompt plus completion, from the answers' usage) it may use per minute.</summary>
    public int? TokensPerMinute { get; set; }

    /// <summary>Its requests in flight or waiting at once.</summary>
    public int? MaxConcurrent { get; set; }
}

/// <summary>Request classes, from the most to the least important.</summary>
public enum PriorityClass
{
    /// <summary>Placed before everything else (interactive chat an SLO depends on).</summary>
    Critical,

    /// <summary>The default.</summary>
    Standard,

    /// <summary>Placed last, and the first evicted from a full queue (batch jobs).</summary>
    Sheddable,
}

/// <summary>What one priority class may do, under <c>Gateway:Classes:{Class}</c>.</summary>
public sealed class PriorityClassOptions
{
    /// <summary>Whether the class's demand counts toward scaling cloud pools out; false: it waits for capacity that exists.</summary>
    public bool ScalesCloud { get; set; } = true;

    /// <summary>
    /// The share of each replica's slots the class may fill (above 0, at most 1): a request of the class is placed on a
    /// replica only while fewer than <c>max(1, floor(share x capacity))</c> requests are in flight there, whatever their
    /// class, so the rest of its slots stay free for the classes above. 1: every slot. A class may not fill a replica
    /// further than a more important one.
    /// </summary>
    public double MaxSlotShare { get; set; } = 1;
}

/// <summary>Where a tenant's requests may run.</summary>
public enum Residency
{
    /// <summary>On any pool.</summary>
    Any,

    /// <summary>Only on pools whose <see cref="PoolOptions.Location"/> is <see cref="PoolLocation.OnPrem"/>.</summary>
    OnPremOnly,
}

/// <summary>Where a pool's replicas run.</summary>
public enum PoolLocation
{
    /// <summary>The company's own GPUs.</summary>
    OnPrem,

    /// <summary>A public cloud.</summary>
    Cloud,
}

namespace Gateway.Configuration;

/// <summary>
/// Who may read the admin listener. Bound to an address other than loopback, its <c>/admin/status</c>,
/// <c>/dashboard</c> (and, with <see cref="ProtectMetrics"/>, <c>/metrics</c>) answer only a request with
/// <c>Authorization: Bearer &lt;token&gt;</c>; <c>/healthz</c> and <c>/readyz</c> stay open for the kubelet's probes.
/// The token is read at start from a file or an environment variable, never from the configuration itself.
/// </summary>
public sealed class AdminOptions
{
    /// <summary>A file holding the token (surrounding whitespace ignored), e.g. a mounted Kubernetes Secret.</summary>
    public string? TokenFile { get; set; }

    /// <summary>The name of an environment variable holding the token (not the token itself).</summary>
    public string? TokenEnv { get; set; }

    /// <summary>Lets an admin listener on a non-loopback address run without a token; for a network that is already closed.</summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>Asks for the token on <c>/metrics</c> too; off by default so Prometheus scrapes without one.</summary>
    public bool ProtectMetrics { get; set; }
}

namespace Gateway.Configuration;

/// <summary>
/// Which connections may tell the gateway who the client is. The gateway always sends <c>X-Forwarded-For</c>,
/// <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Host</c> to the replica; a client's own <c>X-Forwarded-*</c> headers are
/// kept (and appended to) only when its connection comes from one of <see cref="KnownNetworks"/>, else they are dropped,
/// so nobody can claim another address by sending the header.
/// </summary>
public sealed class ForwardedHeadersOptions
{
    /// <summary>
    /// Networks in CIDR notation (<c>10.0.0.0/8</c>, <c>::1/128</c>) of the proxies in front of the gateway (a TLS
    /// terminator, an ingress) whose <c>X-Forwarded-*</c> headers are believed. Empty, the default: nobody's.
    /// </summary>
    public List<string> KnownNetworks { get; set; } = [];
}

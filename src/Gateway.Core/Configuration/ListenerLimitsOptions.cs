namespace Gateway.Configuration;

/// <summary>
/// Limits Kestrel applies to every connection of the gateway's listeners, so that slow or numerous clients cannot hold
/// its sockets and memory: how many connections stay open, how long the request headers may take, and how slowly a
/// request body may arrive.
/// </summary>
public sealed class ListenerLimitsOptions
{
    /// <summary>Connections a listener keeps open at once; a further one is closed as it arrives.</summary>
    public long MaxConnections { get; set; } = 10_000;

    /// <summary>Seconds a client has to send the whole request line and headers.</summary>
    public double RequestHeadersTimeoutSeconds { get; set; } = 30;

    /// <summary>Slowest a request body may arrive, in bytes per second, once the grace period is over; 0 turns the check off.</summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>Seconds a request body may arrive more slowly than <see cref="MinRequestBodyBytesPerSecond"/> (more than 1).</summary>
    public double MinRequestBodyGraceSeconds { get; set; } = 5;
}

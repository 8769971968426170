using System.Net;

namespace Gateway.LoadTests.Targets;

/// <summary>The HttpClient every drill sends with: loopback only, no proxy, no cookies, a connection per concurrent request.</summary>
internal static class LoadClient
{
    public static HttpClient Create(TimeSpan timeout) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        MaxConnectionsPerServer = int.MaxValue,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    })
    {
        Timeout = timeout,
    };
}

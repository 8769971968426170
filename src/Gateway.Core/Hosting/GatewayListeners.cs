using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway.Hosting;

/// <summary>
/// The public and admin listeners. Kestrel fills in the real port after binding (port 0 in tests), so the
/// admin branch is chosen by the port a connection arrived on.
/// </summary>
public sealed class GatewayListeners
{
    private ListenOptions? _public;
    private ListenOptions? _admin;

    /// <summary>The public listener's address, e.g. <c>http://127.0.0.1:8080/</c>.</summary>
    public Uri PublicAddress => Address(_public);

    /// <summary>The admin listener's address, e.g. <c>http://127.0.0.1:9090/</c>.</summary>
    public Uri AdminAddress => Address(_admin);

    internal int AdminPort => _admin?.IPEndPoint?.Port ?? -1;

    internal void Configure(KestrelServerOptions kestrel, string publicUrl, string adminUrl)
    {
        kestrel.Listen(EndPoint(publicUrl), options => _public = options);
        kestrel.Listen(EndPoint(adminUrl), options => _admin = options);
    }

    /// <summary>The IP end point of a listener URL: an IP address (<c>0.0.0.0</c> for every address) or <c>localhost</c>.</summary>
    internal static IPEndPoint EndPoint(string url)
    {
        var uri = new Uri(url);
        var host = uri.Host;
        var address = host switch
        {
            "localhost" => IPAddress.Loopback,
            _ => IPAddress.Parse(host.Trim('[', ']')),
        };
        return new IPEndPoint(address, uri.Port);
    }

    private static Uri Address(ListenOptions? options)
    {
        var endPoint = options?.IPEndPoint ?? throw new InvalidOperationException("the gateway is not listening yet");
        var host = endPoint.Address.Equals(IPAddress.Any) ? "127.0.0.1" : endPoint.Address.ToString();
        return new Uri($"http://{(endPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{host}]" : host)}:{endPoint.Port}/");
    }
}

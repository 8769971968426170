using System.Net;
using System.Net.Sockets;

namespace Gateway.Testing;

/// <summary>An address on loopback where nothing listens: a replica that refuses every connection.</summary>
public static class ClosedPort
{
    /// <summary>Binds a free port and releases it at once, so connecting to it is refused.</summary>
    public static Uri Address()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }
}

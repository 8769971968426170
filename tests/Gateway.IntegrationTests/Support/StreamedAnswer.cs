using System.Net;
using System.Net.Sockets;

namespace Gateway.IntegrationTests.Support;

/// <summary>
/// A streamed chat answer being read on a connection of its own. Once its first event has arrived the
/// request holds a sequence on its replica. Disposing closes the socket at once, as a client that goes away
/// does; disposing an HttpClient response instead lets the handler drain it first, for up to two seconds.
/// </summary>
internal sealed class StreamedAnswer : IDisposable
{
    private readonly HttpClient _client;
    private readonly Socket _socket;
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private StreamedAnswer(HttpClient client, Socket socket, HttpResponseMessage response, StreamReader reader)
    {
        _client = client;
        _socket = socket;
        _response = response;
        _reader = reader;
    }

    /// <summary>
    /// Sends a streamed request for <paramref name="maxTokens"/> tokens to <paramref name="baseAddress"/> with
    /// <paramref name="host"/> as its Host header (none: the address's own) and <paramref name="apiKey"/> as its bearer
    /// key (none: no Authorization header), and waits for its first event.
    /// </summary>
    public static async Task<StreamedAnswer> OpenAsync(Uri baseAddress, int maxTokens, string? host = GatewayFixture.ServiceHost, string? apiKey = null)
    {
        Socket? connected = null;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                connected = socket;
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (host is not null)
        {
            client.DefaultRequestHeaders.Host = host;
        }

        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }

        HttpResponseMessage? response = null;
        try
        {
            response = await client.SendAsync(ChatRequest.Post(maxTokens, stream: true), HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var first = await reader.ReadLineAsync();
            Assert.StartsWith("data: {", first, StringComparison.Ordinal);
            return new StreamedAnswer(client, connected!, response, reader);
        }
        catch
        {
            response?.Dispose();
            client.Dispose();
            throw;
        }
    }

    /// <summary>The next line of the event stream, or null at its end.</summary>
    public Task<string?> ReadLineAsync() => _reader.ReadLineAsync();

    public void Dispose()
    {
        _socket.Close();
        _reader.Dispose();
        _response.Dispose();
        _client.Dispose();
    }
}

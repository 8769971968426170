using System.Net;

namespace Gateway.IntegrationTests.Support;

/// <summary>
/// A streamed chat answer being read through the gateway. Once its first event has arrived the request
/// holds a sequence on its replica; disposing drops the connection mid-stream, as a client that goes away.
/// </summary>
internal sealed class StreamedAnswer : IDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private StreamedAnswer(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    /// <summary>Sends a streamed request for <paramref name="maxTokens"/> tokens and waits for its first event.</summary>
    public static async Task<StreamedAnswer> OpenAsync(HttpClient client, int maxTokens)
    {
        var response = await client.SendAsync(ChatRequest.Post(maxTokens, stream: true), HttpCompletionOption.ResponseHeadersRead);
        try
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var first = await reader.ReadLineAsync();
            Assert.StartsWith("data: {", first, StringComparison.Ordinal);
            return new StreamedAnswer(response, reader);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>The next line of the event stream, or null at its end.</summary>
    public Task<string?> ReadLineAsync() => _reader.ReadLineAsync();

    public void Dispose()
    {
        _reader.Dispose();
        _response.Dispose();
    }
}

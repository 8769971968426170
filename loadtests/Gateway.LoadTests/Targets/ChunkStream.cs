using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Gateway.LoadTests.Engine;
using HdrHistogram;

namespace Gateway.LoadTests.Targets;

/// <summary>
/// A streamed request to the <see cref="SseBackend"/> (straight or through the gateway) as a scenario step: for every
/// chunk it records the time from the backend's <c>"sent"</c> stamp to the moment the client's read returned the
/// chunk's last byte, in nanoseconds of the shared <see cref="Stopwatch"/> clock.
/// </summary>
internal sealed class ChunkStream
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private static readonly byte[] SentMarker = Encoding.UTF8.GetBytes("\"sent\":");

    private readonly HttpClient _client;
    private readonly Uri _endpoint;
    private readonly string? _host;
    private readonly byte[] _body;
    private readonly string _interval;

    public ChunkStream(HttpClient client, Uri baseAddress, string? host, int chunks, TimeSpan interval)
    {
        _client = client;
        _endpoint = new Uri(baseAddress, "v1/chat/completions");
        _host = host;
        _body = Encoding.UTF8.GetBytes(
            $$"""{"model":"sse","messages":[{"role":"user","content":"Hello"}],"stream":true,"max_tokens":{{chunks}}}""");
        _interval = interval.TotalMilliseconds.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Delay of each chunk, nanoseconds; reset it after a warm-up.</summary>
    public LongConcurrentHistogram Delays { get; } = new(1, 3_600_000_000_000, 3);

    /// <summary>Chunks received.</summary>
    public long Chunks => Delays.TotalCount;

    public Scenario ToScenario(string name) => new(name, SendAsync);

    public async Task<StepResult> SendAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(_body) };
        request.Content.Headers.ContentType = Json;
        request.Headers.Add(SseBackend.IntervalHeader, _interval);
        if (_host is not null)
        {
            request.Headers.Host = _host;
        }

        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return StepResult.Fail((int)response.StatusCode);
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            // Bytes of a line not yet ended sit at the buffer's start until the read that completes it.
            var kept = 0;
            var firstToken = StepResult.NoFirstToken;
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(kept), cancellationToken)) > 0)
            {
                var received = Stopwatch.GetTimestamp();
                var data = buffer.AsSpan(0, kept + read);
                int newline;
                while ((newline = data.IndexOf((byte)'\n')) >= 0)
                {
                    var line = data[..newline];
                    var at = line.IndexOf(SentMarker);
                    if (at >= 0 && Utf8Parser.TryParse(line[(at + SentMarker.Length)..], out long sent, out _))
                    {
                        Delays.RecordValue(Math.Clamp((long)((received - sent) * (1e9 / Stopwatch.Frequency)), 1, Delays.HighestTrackableValue));
                        if (firstToken == StepResult.NoFirstToken)
                        {
                            firstToken = received;
                        }
                    }

                    data = data[(newline + 1)..];
                }

                data.CopyTo(buffer);
                kept = data.Length;
                if (kept == buffer.Length)
                {
                    throw new InvalidDataException("an SSE line longer than 64 KiB");
                }
            }

            return StepResult.Ok((int)response.StatusCode, firstToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.LoadTests.Engine;

namespace Gateway.LoadTests.Targets;

/// <summary>
/// One chat completion as a scenario step: POST the body (with the Host header a KServe-style route needs), read
/// the answer to its end. The first token is the first body byte of a plain answer (which arrives whole, so it is
/// about the latency) or the first SSE event carrying generated text of a streamed one.
/// </summary>
internal sealed class ChatRequest
{
    /// <summary>The seed's request with <c>max_tokens</c> 10: what the peak drill sends unless told otherwise.</summary>
    public const string SeedBody =
        """{"model": "qwen", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 10, "temperature": 0.7, "top_p": 0.9, "seed": 10, "stop":["<|endoftext|>", "<|im_end|>", "<|im_start|>"]}""";

    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private static readonly byte[] ContentMarker = Encoding.UTF8.GetBytes("\"content\":\"");
    private static readonly byte[] TextMarker = Encoding.UTF8.GetBytes("\"text\":\"");

    private readonly HttpClient _client;
    private readonly Uri _endpoint;
    private readonly string? _host;
    private readonly byte[] _body;
    private readonly bool _streamed;

    public ChatRequest(HttpClient client, Uri baseAddress, string? host, string body, bool streamed)
    {
        _client = client;
        _endpoint = new Uri(baseAddress, "v1/chat/completions");
        _host = host;
        _streamed = streamed;
        _body = Encoding.UTF8.GetBytes(streamed ? Streamed(body) : body);
    }

    /// <summary>The body with <c>"stream": true</c>.</summary>
    public static string Streamed(string body)
    {
        var json = JsonNode.Parse(body)?.AsObject() ?? throw new ArgumentException("the body is not a JSON object", nameof(body));
        json["stream"] = true;
        return json.ToJsonString();
    }

    public Scenario ToScenario(string name) => new(name, SendAsync);

    public async Task<StepResult> SendAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(_body) };
        request.Content.Headers.ContentType = Json;
        if (_host is not null)
        {
            request.Headers.Host = _host;
        }

        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var status = (int)response.StatusCode;
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            var firstToken = StepResult.NoFirstToken;
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (firstToken == StepResult.NoFirstToken && (!_streamed || HasText(buffer.AsSpan(0, read))))
                {
                    firstToken = Stopwatch.GetTimestamp();
                }
            }

            return response.IsSuccessStatusCode ? StepResult.Ok(status, firstToken) : StepResult.Fail(status);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Whether <paramref name="chunk"/> holds a delta or completion text that is not empty: the role-only chunk (<c>"content":""</c>) does not count.</summary>
    internal static bool HasText(ReadOnlySpan<byte> chunk) => HasNonEmpty(chunk, ContentMarker) || HasNonEmpty(chunk, TextMarker);

    private static bool HasNonEmpty(ReadOnlySpan<byte> chunk, ReadOnlySpan<byte> marker)
    {
        while (true)
        {
            var at = chunk.IndexOf(marker);
            if (at < 0)
            {
                return false;
            }

            chunk = chunk[(at + marker.Length)..];
            if (chunk.Length > 0 && chunk[0] != (byte)'"')
            {
                return true;
            }
        }
    }
}

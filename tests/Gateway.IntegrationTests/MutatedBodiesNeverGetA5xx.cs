using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.IntegrationTests.Support;
using Xunit.Abstractions;

namespace Gateway.IntegrationTests;

/// <summary>
/// Whatever bytes a client sends as a completion request, the answer is a success or a 4xx in OpenAI's error shape,
/// never a 5xx, an empty error or a dropped connection: thousands of bodies, mutated from valid ones with a seeded
/// random source, go through a real gateway on loopback to a real simulator.
/// </summary>
public sealed class MutatedBodiesNeverGetA5xx(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Bodies = 3000;
    private const int Concurrency = 8;
    private const int Seed = 20261203;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(40);

    private const string Chat = """{"model":"qwen","messages":[{"role":"user","content":"Hi there"}],"max_tokens":2,"temperature":0.5}""";
    private const string ChatStream = """{"model":"qwen","messages":[{"role":"user","content":"Hi"}],"max_tokens":2,"stream":true}""";
    private const string Text = """{"model":"qwen","prompt":"Once upon a time","max_tokens":2}""";

    private static readonly string[] Escapes =
        [@"\u0000", @"\ud800", @"\udc00", @"\udbff\u0041", @"\ud800\ud800", @"\udfff\ud800", @"\uZZZZ", @"\u12", @"\x", @"\", @"\ud83d\ude00"];

    private static readonly string[] Values =
        ["null", "true", "false", "0", "-1", "1.5", "1e999999", "-1e999999", "123456789012345678901234567890", "\"\"", "\"qwen\"",
         "[]", "{}", "[null]", "[{}]", "{\"a\":1}", "\"\\udc00\""];

    private static readonly string[] Fields =
        ["model", "messages", "prompt", "max_tokens", "stream", "stream_options", "temperature", "n", "max_completion_tokens", "seed"];

    private static readonly string[] NotObjects = ["[]", "\"model\"", "42", "null", "true", "[{\"model\":\"qwen\"}]", " ", "\n\t"];

    private static readonly byte[][] InvalidUtf8 =
        [[0x80], [0xBF], [0xC3], [0xC0, 0xAF], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFE], [0xFF]];

    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await GatewayFixture.StartAsync(
            [["--max-num-seqs", "16", "--default-max-tokens", "2"]],
            simulators => new()
            {
                Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 16, simulators[0]))],
            });

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task EveryMutatedBody_IsAnsweredWithASuccessOrA4xxInOpenAIShape()
    {
        var random = new Random(Seed);
        var requests = new (string Path, byte[] Body)[Bodies];
        for (var i = 0; i < requests.Length; i++)
        {
            requests[i] = Mutate(random);
        }

        var statuses = new ConcurrentDictionary<int, int>();
        var failures = new ConcurrentQueue<string>();
        using var http = _gateway.CreatePublicClient();
        using var deadline = new CancellationTokenSource(Deadline);
        var watch = Stopwatch.StartNew();

        await Parallel.ForEachAsync(
            Enumerable.Range(0, requests.Length),
            new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = deadline.Token },
            async (i, cancellationToken) =>
            {
                var (path, body) = requests[i];
                var failure = await SendAsync(http, path, body, statuses, cancellationToken);
                if (failure is not null)
                {
                    failures.Enqueue($"#{i} POST {path} {Convert.ToHexString(body.AsSpan(0, Math.Min(body.Length, 200)))}: {failure}");
                }
            });

        watch.Stop();
        var counts = new StringBuilder();
        foreach (var (status, count) in statuses.OrderBy(s => s.Key))
        {
            counts.Append(CultureInfo.InvariantCulture, $" {status}: {count};");
        }

        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture, $"{Bodies} mutated bodies (seed {Seed}, concurrency {Concurrency}) in {watch.Elapsed.TotalSeconds:F1} s; answers by status:{counts}"));
        Assert.True(failures.IsEmpty, $"{failures.Count} bad answers, the first ones:\n{string.Join('\n', failures.Take(10))}");
        Assert.Equal(Bodies, statuses.Values.Sum());
        Assert.DoesNotContain(statuses.Keys, status => status >= 500);
    }

    private static async Task<string?> SendAsync(
        HttpClient http, string path, byte[] body, ConcurrentDictionary<int, int> statuses, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        HttpResponseMessage response;
        string text;
        try
        {
            response = await http.PostAsync(path, content, cancellationToken);
            text = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException e)
        {
            return "no answer: " + e.Message;
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            statuses.AddOrUpdate(status, 1, static (_, count) => count + 1);
            if (status is >= 200 and < 300)
            {
                return null;
            }

            if (status is < 400 or >= 500)
            {
                return $"{status}: {text}";
            }

            return IsOpenAIError(response, text) ? null : $"{status} not in OpenAI's error shape: {text}";
        }
    }

    private static bool IsOpenAIError(HttpResponseMessage response, string text)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/json")
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String
                && !string.IsNullOrEmpty(message.GetString())
                && error.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
                && !string.IsNullOrEmpty(type.GetString())

                // The gateway's own codes are strings; a replica's (vLLM's) are its status as a number.
                && error.TryGetProperty("code", out var code) && code.ValueKind is JsonValueKind.String or JsonValueKind.Number;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static (string Path, byte[] Body) Mutate(Random random)
    {
        var (path, valid) = random.Next(10) switch
        {
            < 6 => ("v1/chat/completions", Chat),
            < 8 => ("v1/chat/completions", ChatStream),
            _ => ("v1/completions", Text),
        };

        var body = random.Next(13) switch
        {
            0 => RandomBytes(random),
            1 => Truncated(random, valid),
            2 => Bytes(WithEscape(random, valid)),
            3 => Bytes(Nested(random)),
            4 => Bytes(WithField(random, valid, Fields[random.Next(Fields.Length)], Values[random.Next(Values.Length)])),
            5 => Bytes(WithDuplicate(random, valid)),
            6 => Bytes(WithField(random, valid, "stream_options", "null")),
            7 => WithInvalidUtf8(random, valid),
            8 => [],
            9 => Bytes(NotObjects[random.Next(NotObjects.Length)]),
            10 => Bytes(WithField(random, valid, "messages", $$"""[{"role":{{Values[random.Next(Values.Length)]}},"content":{{Values[random.Next(Values.Length)]}}}]""")),
            11 => Flipped(random, valid),
            _ => Bytes(valid),
        };
        return (path, body);
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(1, 64)];
        random.NextBytes(bytes);

        // Half start like an object, so the reader gets past the first byte.
        if (random.Next(2) == 0)
        {
            bytes[0] = (byte)'{';
        }

        return bytes;
    }

    private static byte[] Truncated(Random random, string valid) => Bytes(valid[..random.Next(valid.Length)]);

    /// <summary>An escape inside a string value or a key: the model, the content, or a key of its own.</summary>
    private static string WithEscape(Random random, string valid)
    {
        var escape = Escapes[random.Next(Escapes.Length)];
        return random.Next(4) switch
        {
            0 => valid.Replace("\"qwen\"", $"\"{escape}\"", StringComparison.Ordinal),
            1 => valid.Replace("\"qwen\"", $"\"qw{escape}en\"", StringComparison.Ordinal),
            2 => valid.Replace("Hi", "Hi" + escape, StringComparison.Ordinal).Replace("Once", escape, StringComparison.Ordinal),
            _ => "{\"" + escape + "\":1," + valid[1..],
        };
    }

    private static string Nested(Random random)
    {
        var depth = random.Next(2) == 0 ? 10_000 : random.Next(60, 70);
        var open = random.Next(2) == 0 ? "[" : "{\"a\":";
        var inner = string.Concat(Enumerable.Repeat(open, depth));
        return random.Next(2) == 0
            ? inner
            : $$"""{"model":"qwen","messages":[{"role":"user","content":"x","extra":{{inner}}1{{new string(open == "[" ? ']' : '}', depth)}}}],"max_tokens":2}""";
    }

    /// <summary>The body with <paramref name="field"/> set to <paramref name="value"/>, first or last in the object.</summary>
    private static string WithField(Random random, string valid, string field, string value) =>
        random.Next(2) == 0
            ? "{\"" + field + "\":" + value + "," + valid[1..]
            : valid[..^1] + ",\"" + field + "\":" + value + "}";

    private static string WithDuplicate(Random random, string valid) => random.Next(4) switch
    {
        0 => valid[..^1] + ",\"model\":\"other\"}",
        1 => valid[..^1] + ",\"stream\":true,\"stream\":false}",
        2 => valid[..^1] + ",\"messages\":[],\"prompt\":[]}",
        _ => "{\"model\":\"qwen\"," + valid[1..],
    };

    private static byte[] WithInvalidUtf8(Random random, string valid)
    {
        var bytes = Bytes(valid);
        var invalid = InvalidUtf8[random.Next(InvalidUtf8.Length)];

        // Mostly inside a string (the model, the content), where only the bytes themselves are wrong.
        var anchor = random.Next(3) switch
        {
            0 => valid.IndexOf("qwen", StringComparison.Ordinal) + 2,
            1 => valid.IndexOf("Hi", StringComparison.Ordinal) is var hi and >= 0 ? hi + 1 : valid.IndexOf("Once", StringComparison.Ordinal),
            _ => random.Next(bytes.Length + 1),
        };
        return [.. bytes.AsSpan(0, anchor), .. invalid, .. bytes.AsSpan(anchor)];
    }

    /// <summary>One to three bytes of a valid body replaced, inserted or removed at random.</summary>
    private static byte[] Flipped(Random random, string valid)
    {
        var bytes = new List<byte>(Bytes(valid));
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(3))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
                default:
                    bytes.RemoveAt(at);
                    break;
            }
        }

        return [.. bytes];
    }
}

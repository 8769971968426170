using System.Text;
using System.Text.Json;

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// Sorts an answer read to its end into completed, clean error or lost (<see cref="VerdictKind"/>), strictly: an error
/// counts as clean only in OpenAI's shape with a <c>code</c>, and a stream only once it has reached <c>data: [DONE]</c>.
/// </summary>
internal static class AnswerClassifier
{
    /// <summary>Classifies an answer with <paramref name="status"/>, <paramref name="mediaType"/> and the whole <paramref name="body"/>.</summary>
    public static Verdict Classify(int status, string? mediaType, ReadOnlySpan<byte> body, bool streamed)
    {
        if (body.IsEmpty)
        {
            return Verdict.Lost("empty body", $"status {status}");
        }

        if (status >= 400)
        {
            return ErrorBody(body) is { } code ? Verdict.Clean(code) : Verdict.Lost("not an OpenAI error body", Excerpt(status, body));
        }

        if (status != 200)
        {
            return Verdict.Lost("unexpected status", Excerpt(status, body));
        }

        var isStream = mediaType is not null && mediaType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);
        if (streamed != isStream)
        {
            return Verdict.Lost(streamed ? "plain answer to a streamed request" : "stream answer to a plain request", Excerpt(status, body));
        }

        return streamed ? Stream(body) : Plain(body);
    }

    private static Verdict Plain(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var json = JsonDocument.ParseValue(ref reader);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("choices", out var choices)
                && choices.ValueKind == JsonValueKind.Array
                && choices.GetArrayLength() > 0
                ? Verdict.Completed
                : Verdict.Lost("200 without choices", Excerpt(200, body));
        }
        catch (JsonException)
        {
            return Verdict.Lost("200 with a body that is not JSON", Excerpt(200, body));
        }
    }

    /// <summary>
    /// A stream is whole when its last event is <c>[DONE]</c>; with an error event right before it, it is a clean error
    /// (cut mid-answer when chunks of the answer came first); an error event anywhere else, or none and no chunk, is lost.
    /// </summary>
    private static Verdict Stream(ReadOnlySpan<byte> body)
    {
        var events = new List<string>();
        foreach (var line in Encoding.UTF8.GetString(body).Split('\n'))
        {
            var trimmed = line.TrimEnd('\r');
            if (trimmed.StartsWith("data:", StringComparison.Ordinal))
            {
                events.Add(trimmed["data:".Length..].TrimStart(' '));
            }
        }

        if (events.Count == 0)
        {
            return Verdict.Lost("stream without an event", Excerpt(200, body));
        }

        if (events[^1] != "[DONE]")
        {
            return Verdict.Lost("stream ended without [DONE]", $"{events.Count} events, the last: {Shorten(events[^1])}");
        }

        var chunks = 0;
        for (var i = 0; i < events.Count - 1; i++)
        {
            JsonDocument json;
            try
            {
                json = JsonDocument.Parse(events[i]);
            }
            catch (JsonException)
            {
                return Verdict.Lost("stream event that is not JSON", Shorten(events[i]));
            }

            using (json)
            {
                if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out _))
                {
                    if (i != events.Count - 2)
                    {
                        return Verdict.Lost("stream went on after an error event", Shorten(events[i]));
                    }

                    return ErrorBody(Encoding.UTF8.GetBytes(events[i])) is { } code
                        ? Verdict.Clean(code, cutMidAnswer: chunks > 0)
                        : Verdict.Lost("error event without a code", Shorten(events[i]));
                }

                if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("choices", out _))
                {
                    chunks++;
                }
            }
        }

        return chunks > 0 ? Verdict.Completed : Verdict.Lost("stream of [DONE] alone");
    }

    /// <summary>The <c>code</c> of an OpenAI error body <c>{"error":{"message","type","param","code"}}</c>, or null when it is not one.</summary>
    private static string? ErrorBody(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var json = JsonDocument.ParseValue(ref reader);
            if (json.RootElement.ValueKind != JsonValueKind.Object
                || !json.RootElement.TryGetProperty("error", out var error)
                || error.ValueKind != JsonValueKind.Object
                || !error.TryGetProperty("message", out var message)
                || message.ValueKind != JsonValueKind.String
                || !error.TryGetProperty("code", out var code))
            {
                return null;
            }

            // vLLM's own errors carry the HTTP status as a number; the gateway's, a name.
            return code.ValueKind switch
            {
                JsonValueKind.String when code.GetString() is { Length: > 0 } name => name,
                JsonValueKind.Number => code.GetRawText(),
                _ => null,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Excerpt(int status, ReadOnlySpan<byte> body) =>
        $"status {status}: {Shorten(Encoding.UTF8.GetString(body[..Math.Min(body.Length, 400)]))}";

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";
}

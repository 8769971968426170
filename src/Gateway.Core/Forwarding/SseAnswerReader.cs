using System.Buffers;
using System.Text.Json;

namespace Gateway.Forwarding;

/// <summary>
/// Reads a streamed answer (server-sent events) on its way to the client, without holding it back: events
/// are passed on as soon as they are complete. It notes the first event that carries generated text (time
/// to first token: not the role-only first chunk, not a keep-alive comment) and the <c>usage</c> the backend
/// reports, and can leave out usage-only events the client did not ask for.
/// </summary>
internal sealed class SseAnswerReader(bool dropUsageEvents)
{
    private readonly ArrayBufferWriter<byte> _pending = new(1024);

    /// <summary>Whether an event with generated text has been seen.</summary>
    public bool SawText { get; private set; }

    /// <summary>Prompt tokens from the backend's usage, if it sent any.</summary>
    public long? PromptTokens { get; private set; }

    /// <summary>Completion tokens from the backend's usage, if it sent any.</summary>
    public long? CompletionTokens { get; private set; }

    /// <summary>
    /// Takes a chunk from the backend and writes what the client should get to <paramref name="output"/>: every
    /// complete event, minus dropped ones. Returns true when this chunk held the first generated text.
    /// </summary>
    public bool Read(ReadOnlySpan<byte> chunk, IBufferWriter<byte> output)
    {
        var firstText = false;
        var pending = _pending.WrittenSpan;
        if (pending.Length == 0)
        {
            // The common case: the chunk holds whole events; nothing is copied aside.
            var consumed = ReadEvents(chunk, output, ref firstText);
            if (consumed < chunk.Length)
            {
                _pending.Write(chunk[consumed..]);
            }

            return firstText;
        }

        _pending.Write(chunk);
        var all = _pending.WrittenSpan;
        var used = ReadEvents(all, output, ref firstText);
        var rest = all[used..].ToArray();
        _pending.Clear();
        _pending.Write(rest);
        return firstText;
    }

    /// <summary>At the end of the answer: whatever incomplete event is left goes to the client as it is.</summary>
    public void Complete(IBufferWriter<byte> output)
    {
        if (_pending.WrittenCount > 0)
        {
            output.Write(_pending.WrittenSpan);
            _pending.Clear();
        }
    }

    private int ReadEvents(ReadOnlySpan<byte> data, IBufferWriter<byte> output, ref bool firstText)
    {
        var consumed = 0;
        while (true)
        {
            var rest = data[consumed..];
            var end = EventEnd(rest, out var terminatorLength);
            if (end < 0)
            {
                return consumed;
            }

            var length = end + terminatorLength;
            var evt = rest[..length];
            var verdict = Inspect(rest[..end]);
            if (verdict.HasText && !SawText)
            {
                SawText = true;
                firstText = true;
            }

            if (!(dropUsageEvents && verdict.UsageOnly))
            {
                output.Write(evt);
            }

            consumed += length;
        }
    }

    /// <summary>Index of the blank line that ends the first event, or -1; accepts LF and CRLF line ends.</summary>
    private static int EventEnd(ReadOnlySpan<byte> data, out int terminatorLength)
    {
        for (var i = 0; i < data.Length - 1; i++)
        {
            if (data[i] != '\n')
            {
                continue;
            }

            if (data[i + 1] == '\n')
            {
                terminatorLength = 2;
                return i;
            }

            if (data[i + 1] == '\r' && i + 2 < data.Length && data[i + 2] == '\n')
            {
                terminatorLength = 3;
                return i;
            }
        }

        terminatorLength = 0;
        return -1;
    }

    private EventVerdict Inspect(ReadOnlySpan<byte> evt)
    {
        var verdict = default(EventVerdict);
        while (evt.Length > 0)
        {
            var newline = evt.IndexOf((byte)'\n');
            var line = newline < 0 ? evt : evt[..newline];
            evt = newline < 0 ? [] : evt[(newline + 1)..];
            if (line.Length > 0 && line[^1] == '\r')
            {
                line = line[..^1];
            }

            if (!line.StartsWith("data:"u8))
            {
                // Comments (": keep-alive"), event names and ids carry no text.
                continue;
            }

            var payload = line["data:"u8.Length..].TrimStart((byte)' ');
            if (payload.Length == 0 || payload[0] != '{')
            {
                continue;
            }

            var chunk = InspectJson(payload);
            verdict = new EventVerdict(verdict.HasText || chunk.HasText, chunk.UsageOnly);
        }

        return verdict;
    }

    private EventVerdict InspectJson(ReadOnlySpan<byte> json)
    {
        var hasText = false;
        var choices = -1;
        var usage = false;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return default;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("choices"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        reader.Skip();
                        continue;
                    }

                    choices = 0;
                    while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                    {
                        choices++;
                        hasText |= ChoiceHasText(ref reader);
                    }
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        usage = true;
                        ReadUsage(ref reader);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // Not ours to judge: a malformed event is passed on untouched and counts for nothing.
            return default;
        }

        return new EventVerdict(hasText, usage && choices == 0);
    }

    /// <summary>Reads one choice object (reader on its StartObject) and says whether it carries generated text.</summary>
    private static bool ChoiceHasText(ref Utf8JsonReader reader)
    {
        var hasText = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("delta"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isText = reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("reasoning_content"u8);
                    reader.Read();
                    if (isText && reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length > 0)
                    {
                        hasText = true;
                    }

                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("text"u8))
            {
                reader.Read();
                hasText |= reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length > 0;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return hasText;
    }

    private void ReadUsage(ref Utf8JsonReader reader)
    {
        var (prompt, completion) = (PromptTokens, CompletionTokens);
        TokenUsage.Read(ref reader, ref prompt, ref completion);
        (PromptTokens, CompletionTokens) = (prompt, completion);
    }

    private readonly record struct EventVerdict(bool HasText, bool UsageOnly);
}

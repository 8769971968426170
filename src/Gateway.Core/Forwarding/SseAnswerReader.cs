using System.Buffers;
using System.Text.Json;

namespace Gateway.Forwarding;

/// <summary>
/// Reads a streamed answer (server-sent events) on its way to the client, without holding it back: bytes are
/// passed on as they come, except the event still being received, which is held until its blank line so it can
/// be read whole. It notes the first event that carries generated text (time to first token: not the role-only
/// first chunk, not a keep-alive comment) and the <c>usage</c> the backend reports, and can leave out usage-only
/// events the client did not ask for. An event is held only while it is at most <see cref="MaxHeldEventBytes"/>;
/// a larger one is passed on as it comes, unread (it cannot be the small usage event), so what a stream holds
/// stays bounded whatever a replica sends, and each byte is scanned for the end of its event once.
/// </summary>
internal sealed class SseAnswerReader(bool dropUsageEvents) : IDisposable
{
    /// <summary>The most of one event held back to read it; a usage or token event is a few hundred bytes.</summary>
    internal const int MaxHeldEventBytes = 64 * 1024;

    private const int MinHeldArray = 1024;

    private byte[]? _held;
    private int _heldLength;

    // The event being received is over MaxHeldEventBytes: its bytes go on unread until its blank line.
    private bool _passingThrough;

    // How much of an event's end (LF LF or LF CR LF) the bytes scanned so far end with, so a blank line split
    // across chunks is found without scanning held bytes again.
    private EventEndState _end;

    /// <summary>Whether an event with generated text has been seen.</summary>
    public bool SawText { get; private set; }

    /// <summary>Prompt tokens from the backend's usage, if it sent any.</summary>
    public long? PromptTokens { get; private set; }

    /// <summary>Completion tokens from the backend's usage, if it sent any.</summary>
    public long? CompletionTokens { get; private set; }

    /// <summary>
    /// Takes a chunk from the backend and writes what the client should get to <paramref name="output"/>: every
    /// complete event minus dropped ones, and the bytes of an event too large to hold. Returns true when this
    /// chunk held the first generated text.
    /// </summary>
    public bool Read(ReadOnlySpan<byte> chunk, IBufferWriter<byte> output)
    {
        var firstText = false;
        while (chunk.Length > 0)
        {
            var end = EventEnd(chunk);
            var part = end < 0 ? chunk : chunk[..end];
            chunk = end < 0 ? [] : chunk[end..];
            if (_passingThrough)
            {
                output.Write(part);
                _passingThrough = end < 0;
            }
            else if (end < 0)
            {
                Hold(part, output);
            }
            else if (_heldLength + part.Length > MaxHeldEventBytes)
            {
                // Complete, but too large to be the usage event: passed on unread, as if it had come in pieces.
                ReleaseHeld(output);
                output.Write(part);
            }
            else if (_heldLength == 0)
            {
                // The common case: the event is whole in the chunk; nothing is copied aside.
                ReadEvent(part, output, ref firstText);
            }
            else
            {
                part.CopyTo(HeldSpace(part.Length));
                _heldLength += part.Length;
                ReadEvent(_held.AsSpan(0, _heldLength), output, ref firstText);
                _heldLength = 0;
            }
        }

        return firstText;
    }

    /// <summary>At the end of the answer: whatever incomplete event is left goes to the client as it is.</summary>
    public void Complete(IBufferWriter<byte> output) => ReleaseHeld(output);

    /// <summary>Gives the held array back to the pool.</summary>
    public void Dispose()
    {
        if (_held is not null)
        {
            ArrayPool<byte>.Shared.Return(_held);
            _held = null;
            _heldLength = 0;
        }
    }

    /// <summary>Keeps the start of an unfinished event; once it outgrows the limit, it and the rest of the event go on unread.</summary>
    private void Hold(ReadOnlySpan<byte> part, IBufferWriter<byte> output)
    {
        if (_heldLength + part.Length > MaxHeldEventBytes)
        {
            ReleaseHeld(output);
            output.Write(part);
            _passingThrough = true;
            return;
        }

        part.CopyTo(HeldSpace(part.Length));
        _heldLength += part.Length;
    }

    private void ReleaseHeld(IBufferWriter<byte> output)
    {
        if (_heldLength > 0)
        {
            output.Write(_held.AsSpan(0, _heldLength));
            _heldLength = 0;
        }
    }

    /// <summary>Room for <paramref name="length"/> more held bytes (the total is at most <see cref="MaxHeldEventBytes"/>).</summary>
    private Span<byte> HeldSpace(int length)
    {
        var needed = _heldLength + length;
        if (_held is null || _held.Length < needed)
        {
            // The pool's arrays come in powers of two, so a growing event is copied a few times at most.
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, MinHeldArray));
            if (_held is not null)
            {
                _held.AsSpan(0, _heldLength).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_held);
            }

            _held = larger;
        }

        return _held.AsSpan(_heldLength, length);
    }

    private void ReadEvent(ReadOnlySpan<byte> evt, IBufferWriter<byte> output, ref bool firstText)
    {
        var verdict = Inspect(evt);
        if (verdict.HasText && !SawText)
        {
            SawText = true;
            firstText = true;
        }

        if (!(dropUsageEvents && verdict.UsageOnly))
        {
            output.Write(evt);
        }
    }

    /// <summary>
    /// Scans <paramref name="data"/>, the bytes after those scanned before, for the blank line that ends the
    /// current event (LF and CRLF line ends) and returns the index just after it, or -1.
    /// </summary>
    private int EventEnd(ReadOnlySpan<byte> data)
    {
        var i = 0;
        while (i < data.Length)
        {
            switch (_end)
            {
                case EventEndState.InLine:
                    var newline = data[i..].IndexOf((byte)'\n');
                    if (newline < 0)
                    {
                        return -1;
                    }

                    i += newline + 1;
                    _end = EventEndState.AfterLineEnd;
                    break;
                case EventEndState.AfterLineEnd:
                    var next = data[i++];
                    if (next == '\n')
                    {
                        _end = EventEndState.InLine;
                        return i;
                    }

                    _end = next == '\r' ? EventEndState.AfterLineEndCr : EventEndState.InLine;
                    break;
                default:
                    if (data[i] == '\n')
                    {
                        _end = EventEndState.InLine;
                        return i + 1;
                    }

                    // Not consumed: the byte may itself end a line.
                    _end = EventEndState.InLine;
                    break;
            }
        }

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

    private enum EventEndState
    {
        InLine,
        AfterLineEnd,
        AfterLineEndCr,
    }
}

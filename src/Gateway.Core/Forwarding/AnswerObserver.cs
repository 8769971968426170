using System.Buffers;
using System.Text.Json;

namespace Gateway.Forwarding;

/// <summary>
/// Stands between YARP and the client's response body while an answer is forwarded. It passes every byte on
/// as it comes (a streamed answer event by event, holding back at most the unfinished event's first
/// <see cref="SseAnswerReader.MaxHeldEventBytes"/>; a plain answer at once, a copy of its first
/// <see cref="MaxPlainBytes"/> kept to read its usage), and notes what metrics need: the time
/// to first token (the first event with generated text, or a plain answer's first byte) and the backend's
/// token usage. When the gateway itself asked a stream for usage, the usage event is left out, so the client
/// gets exactly the stream it asked for. It also counts the replica's bytes: past
/// <see cref="Configuration.ForwardingOptions.MaxAnswerBytes"/> it stops the copy (marking the request's
/// <see cref="ForwardingAttempt.AnswerTooLarge"/>) and passes on only what the gateway writes after that, its error event.
/// </summary>
internal sealed class AnswerObserver : PassOnStream
{
    // A plain answer is kept only to read its usage at the end; a larger one is passed on and not counted.
    private const int MaxPlainBytes = 1024 * 1024;

    private readonly HttpResponse _response;
    private readonly TimeProvider _time;
    private readonly long _arrival;
    private readonly bool _dropUsageEvents;
    private readonly long _maxAnswerBytes;
    private long _received;
    private bool _tooLarge;
    private SseAnswerReader? _events;
    private ArrayBufferWriter<byte>? _eventOutput;
    private byte[]? _plain;
    private int _plainLength;
    private bool _inspected;

    public AnswerObserver(HttpResponse response, TimeProvider time, long arrival, bool dropUsageEvents, long maxAnswerBytes)
        : base(response.Body)
    {
        _maxAnswerBytes = maxAnswerBytes;
        _response = response;
        _time = time;
        _arrival = arrival;
        _dropUsageEvents = dropUsageEvents;
    }

    /// <summary>From the request's arrival to its first token, if one came.</summary>
    public TimeSpan? TimeToFirstToken { get; private set; }

    /// <summary>Prompt tokens from the backend's usage, if it reported any.</summary>
    public long? PromptTokens { get; private set; }

    /// <summary>Completion tokens from the backend's usage, if it reported any.</summary>
    public long? CompletionTokens { get; private set; }

    /// <summary>The answer has ended: passes on what is left and reads the usage of a plain answer.</summary>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        if (_tooLarge)
        {
            // What the reader held of the answer past the limit is dropped with the rest of it.
            return;
        }

        if (_events is not null)
        {
            _eventOutput!.ResetWrittenCount();
            _events.Complete(_eventOutput);
            if (_eventOutput.WrittenCount > 0)
            {
                await Inner.WriteAsync(_eventOutput.WrittenMemory, cancellationToken);
            }

            PromptTokens = _events.PromptTokens;
            CompletionTokens = _events.CompletionTokens;
        }
        else if (_plain is not null)
        {
            ReadPlainUsage(_plain.AsSpan(0, _plainLength));
            ArrayPool<byte>.Shared.Return(_plain);
            _plain = null;
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_tooLarge)
        {
            return Inner.WriteAsync(buffer, cancellationToken);
        }

        var forwarded = Observe(buffer.Span) ?? buffer;
        return forwarded.IsEmpty ? ValueTask.CompletedTask : Inner.WriteAsync(forwarded, cancellationToken);
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        if (_tooLarge)
        {
            Inner.Write(buffer, offset, count);
            return;
        }

        var forwarded = Observe(buffer.AsSpan(offset, count)) ?? buffer.AsMemory(offset, count);
        Inner.Write(forwarded.Span);
    }

    protected override void Dispose(bool disposing)
    {
        _events?.Dispose();
        if (_plain is not null)
        {
            ArrayPool<byte>.Shared.Return(_plain);
            _plain = null;
        }

        base.Dispose(disposing);
    }

    /// <summary>Notes what the chunk says and returns the bytes the client should get (null: the chunk as it is).</summary>
    private ReadOnlyMemory<byte>? Observe(ReadOnlySpan<byte> chunk)
    {
        _received += chunk.Length;
        if (_received > _maxAnswerBytes)
        {
            // The chunk that passes the limit goes nowhere; YARP stops reading the replica when this write fails.
            _tooLarge = true;
            if (_response.HttpContext.Features.Get<ForwardingAttempt>() is { } attempt)
            {
                attempt.AnswerTooLarge = true;
            }

            throw new AnswerTooLargeException(_maxAnswerBytes);
        }

        if (!_inspected)
        {
            _inspected = true;
            if (_response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true)
            {
                _events = new SseAnswerReader(_dropUsageEvents);
                _eventOutput = new ArrayBufferWriter<byte>(4096);
            }
        }

        if (_events is not null)
        {
            _eventOutput!.ResetWrittenCount();
            if (_events.Read(chunk, _eventOutput) && TimeToFirstToken is null)
            {
                TimeToFirstToken = _time.GetElapsedTime(_arrival);
            }

            return _eventOutput.WrittenMemory;
        }

        if (TimeToFirstToken is null && chunk.Length > 0)
        {
            TimeToFirstToken = _time.GetElapsedTime(_arrival);
        }

        KeepPlain(chunk);
        return null;
    }

    private void KeepPlain(ReadOnlySpan<byte> chunk)
    {
        if (_plainLength < 0)
        {
            return;
        }

        var needed = _plainLength + chunk.Length;
        if (needed > MaxPlainBytes)
        {
            // Too large to read for usage: what was kept goes back to the pool now, not at the end of the answer.
            _plainLength = -1;
            if (_plain is not null)
            {
                ArrayPool<byte>.Shared.Return(_plain);
                _plain = null;
            }

            return;
        }

        if (_plain is null || _plain.Length < needed)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 4096));
            if (_plain is not null)
            {
                _plain.AsSpan(0, _plainLength).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_plain);
            }

            _plain = larger;
        }

        chunk.CopyTo(_plain.AsSpan(_plainLength));
        _plainLength = needed;
    }

    private void ReadPlainUsage(ReadOnlySpan<byte> json)
    {
        if (_plainLength <= 0)
        {
            return;
        }

        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isUsage = reader.ValueTextEquals("usage"u8);
                reader.Read();
                if (!isUsage || reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                var (prompt, completion) = (PromptTokens, CompletionTokens);
                TokenUsage.Read(ref reader, ref prompt, ref completion);
                (PromptTokens, CompletionTokens) = (prompt, completion);
            }
        }
        catch (JsonException)
        {
            // An answer that is not the JSON we expect (an error page) has no usage to count.
        }
    }
}

using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Gateway.Forwarding;

/// <summary>
/// The model name a provider knows a service's model by (<see cref="Configuration.ProviderSourceOptions.ModelMap"/>), both
/// ways: the request body's top-level <c>model</c> on the way out, and every <c>"model": "…"</c> member of the answer on the
/// way back (<see cref="ModelNameRewriter"/>), so a client never sees the provider's name.
/// </summary>
internal static class ModelNames
{
    /// <summary>
    /// <paramref name="body"/> (a JSON object, checked by the request path) with its top-level <c>model</c> string set to
    /// <paramref name="model"/>, every other byte as it was; null when it has no such member.
    /// </summary>
    public static byte[]? WithModel(ReadOnlySpan<byte> body, string model)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isModel = reader.ValueTextEquals("model"u8);
            if (!reader.Read())
            {
                return null;
            }

            if (isModel && reader.TokenType == JsonTokenType.String)
            {
                // The value's bytes, quotes included, are replaced by the new name's.
                var start = (int)reader.TokenStartIndex;
                var end = (int)reader.BytesConsumed;
                var name = JsonEncoded(model);
                var rewritten = new byte[body.Length - (end - start) + name.Length];
                body[..start].CopyTo(rewritten);
                name.CopyTo(rewritten.AsSpan(start));
                body[end..].CopyTo(rewritten.AsSpan(start + name.Length));
                return rewritten;
            }

            reader.Skip();
        }

        return null;
    }

    /// <summary><paramref name="value"/> as a JSON string, quotes included.</summary>
    public static byte[] JsonEncoded(string value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStringValue(value);
        }

        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>
/// Passes an answer on to <see cref="PassOnStream.Inner"/> with every <c>"model"</c> member whose value is the provider's name
/// rewritten to the service's, whether the answer is one JSON document or a stream of events, whatever the chunking:
/// it holds back only the bytes of a possible match cut by a chunk's end (at most <see cref="MaxHeld"/>). Inside a JSON
/// string quotes are escaped, so the pattern cannot match text a model generated.
/// </summary>
internal sealed class ModelNameRewriter : PassOnStream
{
    // "model", blanks, ':', blanks, the name in quotes: a longer run of blanks than this is not waited for.
    private const int MaxBlanks = 32;

    private static readonly byte[] Key = "\"model\""u8.ToArray();

    private readonly byte[] _from;
    private readonly byte[] _to;
    private readonly ArrayBufferWriter<byte> _output = new();
    private byte[] _held = [];

    /// <summary>Rewrites <paramref name="from"/> (the provider's name) to <paramref name="to"/> on the way to <paramref name="inner"/>.</summary>
    public ModelNameRewriter(Stream inner, string from, string to)
        : base(inner)
    {
        _from = Encoding.UTF8.GetBytes(from);
        _to = ModelNames.JsonEncoded(to)[1..^1];
        MaxHeld = Key.Length + (2 * MaxBlanks) + 3 + _from.Length;
    }

    /// <summary>The most bytes held back between two writes.</summary>
    public int MaxHeld { get; }

    /// <summary>Whether the names differ in length, so the answer's declared length no longer holds.</summary>
    public bool ChangesLength => _from.Length != _to.Length;

    /// <summary>The answer has ended: what was held back goes on as it is.</summary>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        if (_held.Length > 0)
        {
            var held = _held;
            _held = [];
            await Inner.WriteAsync(held, cancellationToken);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Rewrite(buffer.Span);
        if (_output.WrittenCount > 0)
        {
            await Inner.WriteAsync(_output.WrittenMemory, cancellationToken);
        }
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        Rewrite(buffer.AsSpan(offset, count));
        Inner.Write(_output.WrittenSpan);
    }

    /// <summary>Leaves in <see cref="_output"/> what may go on now, and in <see cref="_held"/> what must wait for more bytes.</summary>
    private void Rewrite(ReadOnlySpan<byte> chunk)
    {
        _output.ResetWrittenCount();
        ReadOnlySpan<byte> data;
        byte[]? joined = null;
        if (_held.Length > 0)
        {
            joined = new byte[_held.Length + chunk.Length];
            _held.CopyTo(joined, 0);
            chunk.CopyTo(joined.AsSpan(_held.Length));
            data = joined;
            _held = [];
        }
        else
        {
            data = chunk;
        }

        var done = 0;
        while (done < data.Length)
        {
            var found = data[done..].IndexOf((byte)'"');
            if (found < 0)
            {
                _output.Write(data[done..]);
                return;
            }

            var at = done + found;
            switch (Match(data[at..], out var length))
            {
                case Outcome.Matched:
                    // Everything up to the opening quote of the value, then the service's name and the closing quote.
                    _output.Write(data[done..(at + length - _from.Length - 1)]);
                    _output.Write(_to);
                    _output.Write("\""u8);
                    done = at + length;
                    break;
                case Outcome.Undecided:
                    _output.Write(data[done..at]);
                    _held = data[at..].ToArray();
                    return;
                default:
                    _output.Write(data[done..(at + 1)]);
                    done = at + 1;
                    break;
            }
        }
    }

    /// <summary>Whether <paramref name="data"/> starts with the pattern; <paramref name="length"/> is the match's length.</summary>
    private Outcome Match(ReadOnlySpan<byte> data, out int length)
    {
        length = 0;
        var i = 0;
        foreach (var b in Key)
        {
            if (i == data.Length)
            {
                return Outcome.Undecided;
            }

            if (data[i++] != b)
            {
                return Outcome.No;
            }
        }

        if (!Expect(data, ref i, (byte)':', out var outcome) || !Expect(data, ref i, (byte)'"', out outcome))
        {
            return outcome;
        }

        foreach (var b in _from)
        {
            if (i == data.Length)
            {
                return Outcome.Undecided;
            }

            if (data[i++] != b)
            {
                return Outcome.No;
            }
        }

        if (i == data.Length)
        {
            return Outcome.Undecided;
        }

        if (data[i++] != '"')
        {
            return Outcome.No;
        }

        length = i;
        return Outcome.Matched;
    }

    /// <summary>Skips blanks, then expects <paramref name="expected"/> at <paramref name="i"/>.</summary>
    private static bool Expect(ReadOnlySpan<byte> data, ref int i, byte expected, out Outcome outcome)
    {
        var blanks = 0;
        while (i < data.Length && data[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            if (++blanks > MaxBlanks)
            {
                outcome = Outcome.No;
                return false;
            }

            i++;
        }

        if (i == data.Length)
        {
            outcome = Outcome.Undecided;
            return false;
        }

        outcome = data[i++] == expected ? Outcome.Matched : Outcome.No;
        return outcome == Outcome.Matched;
    }

    private enum Outcome
    {
        No,
        Matched,
        Undecided,
    }
}

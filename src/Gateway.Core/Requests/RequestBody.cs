using System.Buffers;

namespace Gateway.Requests;

/// <summary>
/// A request body read once, with a size limit, into a pooled buffer. The gateway inspects it and then
/// hands the same bytes to the backend, unchanged, as many times as a safe retry needs.
/// </summary>
internal sealed class RequestBody : IDisposable
{
    private const int InitialSize = 16 * 1024;

    private byte[] _buffer;

    private RequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    /// <summary>Bytes read.</summary>
    public int Length { get; }

    /// <summary>The body's bytes.</summary>
    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    /// <summary>Reads the whole body; null when it is longer than <paramref name="limit"/> bytes.</summary>
    public static async ValueTask<RequestBody?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        var declared = request.ContentLength;
        if (declared > limit)
        {
            return null;
        }

        // The declared length is only a claim: the buffer starts small and grows with the bytes that arrive, so a client
        // announcing megabytes and sending ten costs ten bytes' worth, not the megabytes.
        var size = (int)Math.Min(declared is > 0 ? Math.Min(declared.Value, InitialSize) : InitialSize, limit + 1);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return null;
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return new RequestBody(buffer, length);
    }

    /// <summary>
    /// The same body asking for <c>stream_options.include_usage</c>, so a stream reports its token usage; the
    /// member goes last in the object, so it is the one a JSON reader keeps should the client have sent
    /// <c>"stream_options": null</c>, and every other byte stays as the client sent it. Null when the body is not an
    /// object.
    /// </summary>
    public RequestBody? WithStreamUsage()
    {
        var span = Span;
        var end = span.TrimEnd(" \t\r\n"u8).Length - 1;
        var trimmed = span.TrimStart(" \t\r\n"u8);
        if (end < 0 || span[end] != '}' || trimmed.Length == 0 || trimmed[0] != '{')
        {
            return null;
        }

        // Between the braces there is at least one member unless only blanks are.
        var empty = span[..end].TrimEnd(" \t\r\n"u8)[^1] == '{';
        var member = empty ? "\"stream_options\":{\"include_usage\":true}"u8 : ",\"stream_options\":{\"include_usage\":true}"u8;
        var length = Length + member.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        span[..end].CopyTo(buffer);
        member.CopyTo(buffer.AsSpan(end));
        span[end..].CopyTo(buffer.AsSpan(end + member.Length));
        return new RequestBody(buffer, length);
    }

    /// <summary>
    /// A fresh stream over the bytes, for one attempt at forwarding; its buffer is visible so the replica client
    /// can send the bytes without copying them (<see cref="Forwarding.BufferedRequestBodyHandler"/>).
    /// </summary>
    public ArraySegment<byte> Bytes => new(_buffer, 0, Length);

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

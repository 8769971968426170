namespace Gateway.Forwarding;

/// <summary>
/// A write-only stream that stands between YARP and the client's response body and passes an answer on to
/// <see cref="Inner"/> after looking at it or changing it: what such streams share (no reading, no seeking, flushes go
/// through; the array overloads call the memory ones).
/// </summary>
internal abstract class PassOnStream(Stream inner) : Stream
{
    /// <summary>Where the answer goes on to.</summary>
    public Stream Inner { get; } = inner;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Looks at or changes <paramref name="buffer"/> and passes on what goes on now.</summary>
    public abstract override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => Inner.FlushAsync(cancellationToken);

    public override void Flush() => Inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

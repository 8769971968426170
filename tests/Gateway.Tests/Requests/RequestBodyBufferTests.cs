using Gateway.Requests;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Requests;

public sealed class RequestBodyBufferTests
{
    private const long FourMegabytes = 4 * 1024 * 1024;

    [Fact]
    public async Task ReadAsync_DeclaredFourMegabytesThenStalls_OffersOnlyTheInitialBuffer()
    {
        var body = new TenBytesThenStall();
        var context = new DefaultHttpContext();
        context.Request.ContentLength = FourMegabytes;
        context.Request.Body = body;
        using var cancel = new CancellationTokenSource();

        var reading = RequestBody.ReadAsync(context.Request, FourMegabytes, cancel.Token).AsTask();
        await body.Stalled.WaitAsync(TimeSpan.FromSeconds(10));
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
        // The buffer behind the reads: 16 kB, not the 4 MB the client only claimed.
        Assert.Equal([16 * 1024, 16 * 1024 - 10], body.Offered);
    }

    [Fact]
    public async Task ReadAsync_DeclaredFourMegabytesSendsTenAndCloses_KeepsASmallBuffer()
    {
        var context = new DefaultHttpContext();
        context.Request.ContentLength = FourMegabytes;
        context.Request.Body = new MemoryStream(new byte[10]);

        using var body = await RequestBody.ReadAsync(context.Request, FourMegabytes, CancellationToken.None);

        Assert.Equal(10, body!.Length);
        Assert.Equal(16 * 1024, body.Bytes.Array!.Length);
    }

    [Fact]
    public async Task ReadAsync_BodyLargerThanTheInitialBuffer_GrowsAndKeepsEveryByte()
    {
        var sent = new byte[100_000];
        Random.Shared.NextBytes(sent);
        var context = new DefaultHttpContext();
        context.Request.ContentLength = sent.Length;
        context.Request.Body = new MemoryStream(sent);

        using var body = await RequestBody.ReadAsync(context.Request, FourMegabytes, CancellationToken.None);

        Assert.Equal(sent, body!.Span.ToArray());
    }

    /// <summary>A client that sends ten bytes, then nothing until the read is cancelled; notes the room each read offered.</summary>
    private sealed class TenBytesThenStall : Stream
    {
        private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<int> Offered { get; } = [];

        public Task Stalled => _stalled.Task;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Offered.Add(buffer.Length);
            if (Offered.Count == 1)
            {
                buffer.Span[..10].Fill((byte)'x');
                return 10;
            }

            _stalled.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

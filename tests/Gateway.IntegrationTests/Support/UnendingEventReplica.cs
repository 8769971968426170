using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gateway.IntegrationTests.Support;

/// <summary>
/// A broken replica: real Kestrel on <c>127.0.0.1:0</c> that answers every chat completion with a
/// <c>text/event-stream</c> of <see cref="AnswerBytes"/> bytes that never ends an event (lines of
/// <see cref="Line"/>, no blank line), as fast as the reader takes them. Its <c>/health</c> and vLLM
/// <c>/metrics</c> say it is idle. While it writes, it notes the process's memory at each quarter of the answer.
/// </summary>
internal sealed class UnendingEventReplica : IAsyncDisposable
{
    /// <summary>200 MiB.</summary>
    public const int AnswerBytes = 200 * 1024 * 1024;

    private const int LineBytes = 1024;
    private const int BlockBytes = 64 * LineBytes;

    private WebApplication _app = null!;
    private readonly List<MemorySample> _samples = [];

    private int _ended;


    /// <summary>Answers that have ended, written whole or cut off by the gateway.</summary>
    public int Ended => Volatile.Read(ref _ended);

    /// <summary>One line of the answer, 1 KiB with its LF: <c>data: xxx…</c>.</summary>
    public static byte[] Line { get; } = [.. "data: "u8, .. Enumerable.Repeat((byte)'x', LineBytes - 7), (byte)'\n'];

    /// <summary>The replica's address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The memory samples taken while answering, in order.</summary>
    public IReadOnlyList<MemorySample> Samples
    {
        get
        {
            lock (_samples)
            {
                return [.. _samples];
            }
        }
    }

    public static async Task<UnendingEventReplica> StartAsync()
    {
        var replica = new UnendingEventReplica();
        (replica._app, replica.Address) = await LoopbackReplica.StartAsync(replica.AnswerAsync);
        return replica;
    }

    /// <summary>The live managed heap (after a full collection) and the working set of this process now.</summary>
    public static MemorySample Measure(long written)
    {
        var managed = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        return new MemorySample(written, managed, process.WorkingSet64);
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        await context.Request.Body.CopyToAsync(Stream.Null, aborted);
        context.Response.ContentType = "text/event-stream";
        var block = new byte[BlockBytes];
        for (var offset = 0; offset < BlockBytes; offset += LineBytes)
        {
            Line.CopyTo(block, offset);
        }

        var quarter = AnswerBytes / 4;
        try
        {
            for (var written = 0; written < AnswerBytes;)
            {
                await context.Response.Body.WriteAsync(block, aborted);
                written += BlockBytes;
                if (written % quarter == 0)
                {
                    // The gateway forwards while this writes: what it holds of the answer is live now.
                    var sample = Measure(written);
                    lock (_samples)
                    {
                        _samples.Add(sample);
                    }
                }
            }
        }
        finally
        {
            Interlocked.Increment(ref _ended);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The process's memory when <see cref="Written"/> bytes of an answer had been written.</summary>
internal sealed record MemorySample(long Written, long ManagedBytes, long WorkingSetBytes);

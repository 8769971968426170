using System.Diagnostics;
using System.Net;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;
using Xunit.Abstractions;

namespace Gateway.IntegrationTests;

/// <summary>
/// A replica streams 200 MiB of <c>text/event-stream</c> that never ends an event (no blank line). The gateway,
/// which holds back at most the first 64 KiB of an unfinished event to find the usage event it removes, passes
/// the rest on as it comes: the client's first byte comes at once, every byte arrives, and the gateway's memory
/// does not grow with the answer.
/// </summary>
/// <remarks>
/// The gateway, the replica and the client share this process (the collection runs alone). Memory is measured as
/// the live managed heap after a full collection, at each quarter of the answer while it is being forwarded: the
/// gateway's buffers are managed arrays, so what it holds of the answer is there, and a full collection leaves out
/// the garbage every transfer makes. The working set is printed beside it; it also holds what the runtime keeps
/// of freed memory, so it is not asserted.
/// </remarks>
[Collection(TimingSensitive.Name)]
public sealed class StreamWithoutEventEndsPassesThroughAsItArrives(ITestOutputHelper output)
{
    private const long MaxGrowth = 100L * 1024 * 1024;

    [Fact]
    public async Task TwoHundredMegabyteEvent_FirstByteAtOnce_AllBytesArrive_MemoryStaysFlat()
    {
        await using var replica = await UnendingEventReplica.StartAsync();
        await using var gateway = await GatewayFixture.StartAsync(
            [],
            _ => new GatewayOptions { Services = [GatewayFixture.QwenChat(GatewayFixture.Pool("on-prem", 0, 4, replica.Address))] });
        using var http = gateway.CreatePublicClient();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // The first request through a cold client and gateway spends its first second in the JIT; one dropped after
        // its first bytes warms the path, so the deadline below measures the gateway, not the JIT.
        using (var warmUp = await http.SendAsync(Request(), HttpCompletionOption.ResponseHeadersRead, deadline.Token))
        await using (var warmBody = await warmUp.Content.ReadAsStreamAsync(deadline.Token))
        {
            Assert.True(await warmBody.ReadAsync(new byte[1], deadline.Token) == 1);
        }

        // Its answer is cut off at the replica too, so it neither competes with the measured one nor adds samples.
        await Eventually.WaitAsync(() => Task.FromResult(replica.Ended), n => n == 1, TimeSpan.FromSeconds(10), "the warm-up's answer to end");
        var warmUpSamples = replica.Samples.Count;
        var before = UnendingEventReplica.Measure(0);
        var clock = Stopwatch.StartNew();
        using var response = await http.SendAsync(Request(), HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync(deadline.Token);

        var buffer = new byte[64 * 1024];
        var line = UnendingEventReplica.Line;
        TimeSpan? firstByte = null;
        long received = 0;
        var mismatch = -1L;
        int read;
        while ((read = await body.ReadAsync(buffer, deadline.Token)) > 0)
        {
            firstByte ??= clock.Elapsed;

            // The answer is the line over and over: compare each piece with the part of the line it should be.
            var chunk = buffer.AsSpan(0, read);
            while (chunk.Length > 0 && mismatch < 0)
            {
                var inLine = (int)(received % line.Length);
                var length = Math.Min(chunk.Length, line.Length - inLine);
                if (!chunk[..length].SequenceEqual(line.AsSpan(inLine, length)))
                {
                    mismatch = received;
                }

                chunk = chunk[length..];
                received += length;
            }

            if (mismatch >= 0)
            {
                break;
            }
        }

        var total = clock.Elapsed;
        var samples = replica.Samples.Skip(warmUpSamples).ToArray();
        var managedGrowth = 0L;
        var workingSetGrowth = 0L;
        foreach (var sample in samples)
        {
            managedGrowth = Math.Max(managedGrowth, sample.ManagedBytes - before.ManagedBytes);
            workingSetGrowth = Math.Max(workingSetGrowth, sample.WorkingSetBytes - before.WorkingSetBytes);
            output.WriteLine(
                $"at {sample.Written / (1024 * 1024)} MiB written: managed heap {Mib(sample.ManagedBytes - before.ManagedBytes)} MiB, working set {Mib(sample.WorkingSetBytes - before.WorkingSetBytes)} MiB (vs before the request)");
        }

        output.WriteLine($"first byte after {firstByte?.TotalMilliseconds:F0} ms; {received} bytes in {total.TotalSeconds:F1} s");
        output.WriteLine($"before: managed heap {Mib(before.ManagedBytes)} MiB, working set {Mib(before.WorkingSetBytes)} MiB");
        output.WriteLine($"peak growth: managed heap {Mib(managedGrowth)} MiB, working set {Mib(workingSetGrowth)} MiB");

        Assert.Equal(-1, mismatch);
        Assert.Equal(UnendingEventReplica.AnswerBytes, received);
        Assert.NotNull(firstByte);
        Assert.True(firstByte < TimeSpan.FromSeconds(1), $"the first byte came after {firstByte?.TotalMilliseconds:F0} ms");
        Assert.Equal([50L, 100L, 150L, 200L], [.. samples.Select(s => s.Written / (1024 * 1024))]);
        Assert.True(managedGrowth < MaxGrowth, $"the managed heap grew by {Mib(managedGrowth)} MiB while the answer was forwarded");
    }

    /// <summary>A stream without <c>stream_options</c>: the gateway asks for usage itself and looks for the usage event to remove.</summary>
    private static HttpRequestMessage Request() => new(HttpMethod.Post, "v1/chat/completions")
    {
        Content = new StringContent("""{"model":"qwen","messages":[{"role":"user","content":"Hi"}],"stream":true}""", System.Text.Encoding.UTF8, "application/json"),
    };

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
}

using System.Diagnostics;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;
using Polly.CircuitBreaker;

namespace Gateway.IntegrationTests;

/// <summary>
/// Two calls in a row that fail after their retries open the circuit: for BreakSeconds no POST reaches the receiver
/// and calls fail at once, then one call goes through and, answered, closes it.
/// </summary>
public sealed class WebhookCircuitOpensWhenTheReceiverKeepsFailing
{
    [Fact]
    public async Task TwoFailedCalls_OpenTheCircuit_NoPostDuringTheBreak_ThenCallsResume()
    {
        var failing = true;
        await using var receiver = await WebhookReceiver.StartAsync((_, _, _) => Task.FromResult(Volatile.Read(ref failing) ? 500 : 200));
        await using var harness = WebhookScalerHarness.Create(
            new WebhookScalerOptions { Url = receiver.Url.ToString(), MaxRetries = 0, BreakSeconds = 2 });

        await Assert.ThrowsAsync<HttpRequestException>(() => harness.Scaler.ScaleOutAsync(harness.Out(1), CancellationToken.None));
        await Assert.ThrowsAsync<HttpRequestException>(() => harness.Scaler.ScaleOutAsync(harness.Out(1), CancellationToken.None));
        var opened = Stopwatch.StartNew();
        Volatile.Write(ref failing, false);

        // Calls during the break fail at once and never reach the receiver, which would now accept them.
        var refused = 0;
        var deadline = TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                await harness.Scaler.ScaleOutAsync(harness.Out(1), CancellationToken.None);
                break;
            }
            catch (HttpRequestException e) when (e.InnerException is BrokenCircuitException && opened.Elapsed < deadline)
            {
                refused++;
                Assert.StartsWith("The scaling webhook of pool cloud at http://127.0.0.1:", e.Message, StringComparison.Ordinal);
                Assert.EndsWith("is not called for now: its last calls failed (circuit open for 2 s)", e.Message, StringComparison.Ordinal);
                Assert.Equal(2, receiver.Calls.Count);
                await Task.Delay(100);
            }
        }

        // The break counts from the second failure's answer, which came after its POST arrived: so no POST can reach
        // the receiver within BreakSeconds of it.
        var calls = receiver.Calls;
        Assert.Equal(3, calls.Count);
        Assert.True(calls[2].At - calls[1].At >= TimeSpan.FromSeconds(2), string.Join("\n", calls));
        Assert.True(refused >= 5, $"{refused} calls refused during the break");
    }
}

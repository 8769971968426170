using System.Diagnostics;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>A receiver that accepts the connection and then says nothing costs one attempt of TimeoutSeconds, not the scaling loop.</summary>
public sealed class WebhookAttemptThatStallsIsAbandonedAndRetried
{
    [Fact]
    public async Task FirstAttemptStalls_IsAbandonedAfterTheTimeout_SecondIsAccepted()
    {
        var firstAbandoned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var receiver = await WebhookReceiver.StartAsync(async (call, _, aborted) =>
        {
            if (call == 1)
            {
                // Stalls until the gateway gives up on the attempt and drops the connection.
                try
                {
                    await Task.Delay(Timeout.Infinite, aborted);
                }
                catch (OperationCanceledException)
                {
                    firstAbandoned.TrySetResult();
                }
            }

            return 200;
        });
        await using var harness = WebhookScalerHarness.Create(new WebhookScalerOptions { Url = receiver.Url.ToString(), TimeoutSeconds = 0.5, MaxRetries = 2 });
        var clock = Stopwatch.StartNew();

        await harness.Scaler.ScaleOutAsync(harness.Out(1), CancellationToken.None);

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.5), $"answered after {clock.Elapsed}");
        Assert.Equal(2, receiver.Calls.Count);
        await firstAbandoned.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task EveryAttemptStalls_CallFailsNamingTheTimeout()
    {
        await using var receiver = await WebhookReceiver.StartAsync(async (_, _, aborted) =>
        {
            await Task.Delay(Timeout.Infinite, aborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return 200;
        });
        await using var harness = WebhookScalerHarness.Create(new WebhookScalerOptions { Url = receiver.Url.ToString(), TimeoutSeconds = 0.3, MaxRetries = 1 });

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => harness.Scaler.ScaleOutAsync(harness.Out(1), CancellationToken.None));

        Assert.Equal(
            $"The scaling webhook of pool cloud at {receiver.Url.GetLeftPart(UriPartial.Authority)} did not answer within 0.3 s, 2 times",
            error.Message);

        // A cold receiver may record an attempt only after the gateway has given up on it.
        await Eventually.WaitAsync(() => Task.FromResult(receiver.Calls.Count), n => n >= 2, TimeSpan.FromSeconds(5), "both attempts to reach the receiver");
        Assert.Equal(2, receiver.Calls.Count);
    }
}

using System.Net;
using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>A receiver that fails for a moment gets the same call again, with back-off; one that keeps failing makes the call fail with a clear message.</summary>
public sealed class WebhookIsRetriedWhenItsReceiverFails
{
    [Fact]
    public async Task ReceiverAnswers500Twice_ThenAccepts_OneScaleOutInThreeIdenticalPosts()
    {
        await using var receiver = await WebhookReceiver.StartAsync((call, _, _) => Task.FromResult(call <= 2 ? 500 : 200));
        await using var harness = WebhookScalerHarness.Create(new WebhookScalerOptions { Url = receiver.Url.ToString(), MaxRetries = 3 });

        await harness.Scaler.ScaleOutAsync(harness.Out(2), CancellationToken.None);

        var calls = receiver.Calls;
        Assert.Equal(3, calls.Count);
        Assert.All(calls, c => Assert.Equal(
            """{"service":"qwen-chat","namespace":"default","pool":"cloud","desiredReplicas":2,"currentReplicas":0,"reason":"demand 6"}""",
            c.Body.GetRawText()));

        // Exponential back-off from 1 s, with jitter: the retries are spaced, not hammered.
        Assert.True(calls[2].At - calls[0].At >= TimeSpan.FromSeconds(1), string.Join("\n", calls));

        // The retries are logged (Polly's events), but never the URL's token nor the body.
        Assert.Contains("OnRetry", harness.Logs, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-token", harness.Logs, StringComparison.Ordinal);
        Assert.DoesNotContain("desiredReplicas\":", harness.Logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReceiverKeepsAnswering503_CallFailsAfterItsRetries_WithoutTheUrlsToken()
    {
        await using var receiver = await WebhookReceiver.StartAsync((_, _, _) => Task.FromResult(503));
        await using var harness = WebhookScalerHarness.Create(new WebhookScalerOptions { Url = receiver.Url.ToString(), MaxRetries = 1 });

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => harness.Scaler.ScaleOutAsync(harness.Out(1), CancellationToken.None));

        Assert.Equal(2, receiver.Calls.Count);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Equal(
            $"The scaling webhook of pool cloud at {receiver.Url.GetLeftPart(UriPartial.Authority)} answered 503 to desiredReplicas 1",
            error.Message);
        Assert.DoesNotContain("secret-token", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("secret-token", harness.Logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReceiverAnswers400_IsNotRetried()
    {
        await using var receiver = await WebhookReceiver.StartAsync((_, _, _) => Task.FromResult(400));
        await using var harness = WebhookScalerHarness.Create(new WebhookScalerOptions { Url = receiver.Url.ToString(), MaxRetries = 3 });

        await Assert.ThrowsAsync<HttpRequestException>(() => harness.Scaler.ScaleOutAsync(harness.Out(1), CancellationToken.None));

        Assert.Single(receiver.Calls);
    }
}

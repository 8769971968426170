using Gateway.Requests;

namespace Gateway.Tests.Requests;

public sealed class RateLimitHeadersTests
{
    [Theory]
    [InlineData(0, "0s")]
    [InlineData(0.0001, "1ms")]
    [InlineData(0.012, "12ms")]
    [InlineData(0.9994, "1s")]
    [InlineData(1, "1s")]
    [InlineData(1.5, "1.5s")]
    [InlineData(59.25, "59.25s")]
    [InlineData(60, "1m0s")]
    [InlineData(360, "6m0s")]
    [InlineData(90.125, "1m30.125s")]
    [InlineData(3600, "1h0m0s")]
    [InlineData(3723, "1h2m3s")]
    [InlineData(-3, "0s")]
    public void Duration_IsWrittenAsOpenAIWritesItsResets(double seconds, string expected)
    {
        Assert.Equal(expected, RateLimitHeaders.Duration(TimeSpan.FromSeconds(seconds)));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(0.2, 1)]
    [InlineData(1, 1)]
    [InlineData(1.01, 2)]
    [InlineData(30, 30)]
    public void RetryAfterSeconds_IsWholeSecondsRoundedUp_AtLeastOne(double seconds, int expected)
    {
        Assert.Equal(expected, RateLimitHeaders.RetryAfterSeconds(TimeSpan.FromSeconds(seconds)));
    }
}

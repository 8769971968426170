using Gateway.Configuration;
using Gateway.Requests;

namespace Gateway.Tests.Requests;

public sealed class TokenEstimateTests
{
    [Theory]
    [InlineData(400, 64, 164)]
    [InlineData(401, 64, 165)]
    [InlineData(80, null, 532)]
    public void For_IsAQuarterOfTheBodyRoundedUpPlusTheCompletionAllowed(int bodyBytes, int? maxTokens, long expected)
    {
        Assert.Equal(expected, TokenEstimate.For(bodyBytes, maxTokens, new ServiceOptions { AssumedMaxTokens = 512 }));
    }
}

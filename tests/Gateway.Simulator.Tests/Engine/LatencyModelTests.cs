using Gateway.Simulator.Engine;
using Gateway.Simulator.Options;

namespace Gateway.Simulator.Tests.Engine;

public sealed class LatencyModelTests
{
    private static readonly LatencyModel Model = new(new SimulatorOptions
    {
        MaxNumSeqs = 5,
        TimeToFirstTokenMs = 100,
        PrefillTimePerTokenMs = 2,
        InterTokenLatencyMs = 10,
        TimeFactorUnderLoad = 3,
    });

    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(3, 2.0)]
    [InlineData(5, 3.0)]
    [InlineData(9, 3.0)]
    public void LoadFactor_GrowsLinearlyToTheFactorAtMaxNumSeqs(int running, double factor) =>
        Assert.Equal(factor, Model.LoadFactor(running));

    [Fact]
    public void TimeToFirstToken_AddsPrefillPerPromptToken() =>
        Assert.Equal(TimeSpan.FromMilliseconds(2 * (100 + (2 * 50))), Model.TimeToFirstToken(promptTokens: 50, running: 3));

    [Fact]
    public void InterTokenLatency_GrowsWithTheBatch() =>
        Assert.Equal(TimeSpan.FromMilliseconds(30), Model.InterTokenLatency(running: 5));

    [Fact]
    public void IsZero_OnlyWithoutAnyLatency()
    {
        Assert.True(new LatencyModel(new SimulatorOptions()).IsZero);
        Assert.False(Model.IsZero);
    }
}

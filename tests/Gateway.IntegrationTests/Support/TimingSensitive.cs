namespace Gateway.IntegrationTests.Support;

/// <summary>
/// Tests that measure wall-clock spacing or deadlines of a second. xunit runs this collection on its own,
/// after the parallel ones, so a neighbour's burst of 200 requests cannot skew a measurement.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingSensitive
{
    public const string Name = "Timing-sensitive";
}

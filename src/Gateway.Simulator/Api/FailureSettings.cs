using Gateway.Simulator.Options;

namespace Gateway.Simulator.Api;

/// <summary>
/// The share of API requests that fail (0..100 percent) and the kinds drawn from (every kind when
/// <paramref name="Types"/> is empty), as <c>--failure-injection-rate</c> and <c>--failure-types</c> set them.
/// </summary>
internal sealed record FailureSettings(double Rate, IReadOnlyList<FailureType> Types)
{
    private static readonly FailureType[] AllTypes = Enum.GetValues<FailureType>();

    /// <summary>The kinds a failure is drawn from.</summary>
    public IReadOnlyList<FailureType> DrawnFrom => Types.Count > 0 ? Types : AllTypes;
}

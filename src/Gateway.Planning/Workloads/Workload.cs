namespace Gateway.Planning;

/// <summary>
/// What a replay drives through the gateway: an <see cref="OpenLoopWorkload"/> (arrivals fixed in advance, whatever
/// the gateway's answers) or a <see cref="ClosedLoopWorkload"/> (clients that each wait for an answer before asking
/// again, so the gateway's speed sets the rate). The replay engine tells them apart by pattern matching.
/// </summary>
internal abstract record Workload
{
    // Only the two kinds in this folder derive from it, so an engine's switch over them covers every workload.
    private protected Workload()
    {
    }

    /// <summary>How long requests keep arriving, from the trace's start.</summary>
    public abstract TimeSpan Duration { get; }
}

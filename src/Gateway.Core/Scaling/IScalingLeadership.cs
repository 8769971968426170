namespace Gateway.Scaling;

/// <summary>
/// Whether this gateway makes scaling calls. When the gateway runs as several replicas only one of them, the
/// leader, may scale pools; every replica serves traffic and exports metrics all the same.
/// </summary>
public interface IScalingLeadership
{
    /// <summary>True while this gateway is the one that scales; read by the scaling loop every tick.</summary>
    bool IsLeader { get; }

    /// <summary>
    /// Cancelled when this gateway stops leading, so a scaling call already under way (a webhook retrying for tens of
    /// seconds) does not go on after another gateway has taken over.
    /// </summary>
    CancellationToken Term { get; }
}

/// <summary>A gateway that runs alone: always the leader.</summary>
public sealed class SoleLeadership : IScalingLeadership
{
    public bool IsLeader => true;

    public CancellationToken Term => CancellationToken.None;
}

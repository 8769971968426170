namespace Gateway.Planning;

/// <summary>The fewest cloud replica-seconds a clairvoyant scaler pays for a trace, and where they go.</summary>
/// <param name="ReplicaSeconds">The total over the served levels: what each policy's cloud replica-seconds are set against.</param>
/// <param name="Levels">The served levels, first replica first.</param>
/// <param name="UnservedReplicaSeconds">
/// Seconds of the levels above <see cref="OracleFleet.MaxReplicas"/>, summed: the replicas' worth of demand the maximum
/// leaves to wait or be rejected. Zero without a maximum.
/// </param>
/// <param name="UnservedRequestSeconds">
/// The same in requests: the integral over time of the requests beyond on-prem's and the allowed cloud replicas' slots.
/// </param>
/// <param name="PeakReplicas">The most cloud replicas needed at once, the maximum aside.</param>
internal sealed record OracleResult(
    double ReplicaSeconds,
    IReadOnlyList<OracleLevel> Levels,
    double UnservedReplicaSeconds,
    double UnservedRequestSeconds,
    int PeakReplicas);

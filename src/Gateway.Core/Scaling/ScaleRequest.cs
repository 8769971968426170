using Gateway.Backends;

namespace Gateway.Scaling;

/// <summary>One scaling call: the pool, the replicas it should have, the replicas it has (ready or provisioning), and why.</summary>
internal sealed record ScaleRequest(Pool Pool, int DesiredReplicas, int CurrentReplicas, string Reason);

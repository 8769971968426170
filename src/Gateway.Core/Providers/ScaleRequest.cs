using Gateway.Model;

namespace Gateway.Providers;

/// <summary>
/// One scaling call: the pool, the replicas it should have (absolute), the replicas the controller counted in it
/// (ready or provisioning, and those asked for that are still on their way), and why.
/// </summary>
public sealed record ScaleRequest(Pool Pool, int DesiredReplicas, int CurrentReplicas, string Reason);

using Gateway.Backends;

namespace Gateway.Scaling;

/// <summary>What the <see cref="ScaleController"/> asks its caller (the replica source of the pool) to do now.</summary>
internal abstract record ScaleAction
{
    private ScaleAction()
    {
    }

    /// <summary>Start <paramref name="Count"/> more replicas in <paramref name="Pool"/>; they join it as provisioning before the next tick.</summary>
    public sealed record Add(Pool Pool, int Count) : ScaleAction;

    /// <summary>Mark <paramref name="Replica"/> draining: no new requests, the ones in flight finish.</summary>
    public sealed record Drain(Replica Replica) : ScaleAction;

    /// <summary>Stop <paramref name="Replica"/> and take it out of its pool: it has drained, or its drain timeout has passed.</summary>
    public sealed record Remove(Replica Replica) : ScaleAction;
}

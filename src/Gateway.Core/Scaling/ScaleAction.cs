using Gateway.Model;

namespace Gateway.Scaling;

/// <summary>What the <see cref="ScaleController"/> asks its caller (through the pool's scaler) to do now.</summary>
internal abstract record ScaleAction
{
    private ScaleAction()
    {
    }

    /// <summary>
    /// Ask for <paramref name="Count"/> more replicas in <paramref name="Pool"/> than it counts now; a process source
    /// adds them as provisioning before the next tick, other scalers' replicas join when they are up.
    /// </summary>
    public sealed record Add(Pool Pool, int Count) : ScaleAction;

    /// <summary>
    /// Ask the pool's scaler for <paramref name="Desired"/> replicas instead of the more it was asked for and that have
    /// not all arrived (the peak ended while nodes were booting); the pool counted <paramref name="Current"/>.
    /// </summary>
    public sealed record Lower(Pool Pool, int Desired, int Current) : ScaleAction;

    /// <summary>Mark <paramref name="Replica"/> draining: no new requests, the ones in flight finish.</summary>
    public sealed record Drain(Replica Replica) : ScaleAction;

    /// <summary>Stop <paramref name="Replica"/> and take it out of its pool: it has drained, or its drain timeout has passed.</summary>
    public sealed record Remove(Replica Replica) : ScaleAction;
}

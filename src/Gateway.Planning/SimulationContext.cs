namespace Gateway.Planning;

/// <summary>
/// The replay's one thread: every continuation the gateway's code awaits (a queue slot, a virtual delay, a scaling
/// tick) is posted here and run in order by <see cref="RunPending"/>, so a replay is deterministic and needs no locks
/// beyond those the gateway takes anyway. Work posted from any other thread is taken too and runs here.
/// </summary>
internal sealed class SimulationContext : SynchronizationContext
{
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _pending = new();

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_pending)
        {
            _pending.Enqueue((d, state));
        }
    }

    public override void Send(SendOrPostCallback d, object? state) => d(state);

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Runs what is posted, and what that posts, until nothing is left.</summary>
    public void RunPending()
    {
        while (true)
        {
            (SendOrPostCallback Callback, object? State) next;
            lock (_pending)
            {
                if (!_pending.TryDequeue(out next))
                {
                    return;
                }
            }

            next.Callback(next.State);
        }
    }
}

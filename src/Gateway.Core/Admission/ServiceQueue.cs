using Gateway.Balancing;
using Gateway.Model;

namespace Gateway.Admission;

/// <summary>
/// A service's gateway queue: a bounded FIFO of requests waiting for a slot. While nobody waits, a request
/// is placed at once without a lock. Otherwise it joins the tail; whenever a slot frees or a replica becomes
/// ready, the head takes it, highest-priority pool first. A waiter that times out or whose client leaves is
/// taken out of the queue before anything is sent anywhere. The queue hears of freed slots as a
/// <see cref="ICapacityListener"/> of its service's pools.
/// </summary>
internal sealed class ServiceQueue : ICapacityListener
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _waiting = new();
    private readonly InferenceService _service;
    private readonly TimeProvider _time;
    private readonly int _maxWaiting;
    private readonly TimeSpan _maxWait;
    private volatile bool _closed;

    /// <summary>The queue of <paramref name="service"/>, placing with <paramref name="placement"/>; it listens to the service's pools from now on.</summary>
    public ServiceQueue(InferenceService service, IPlacementPolicy placement, TimeProvider time)
    {
        _service = service;
        _time = time;
        Placement = placement;
        var options = service.Options.Queue;
        _maxWaiting = options.MaxWaiting;
        _maxWait = TimeSpan.FromSeconds(options.MaxWaitSeconds);
        RetryAfterSeconds = options.RetryAfterSeconds;
        foreach (var pool in service.Pools)
        {
            pool.AddCapacityListener(this);
        }
    }

    /// <summary>The service whose requests wait here.</summary>
    public InferenceService Service => _service;

    /// <summary>How the queue's requests are placed on replicas.</summary>
    public IPlacementPolicy Placement { get; }

    /// <summary>The <c>Retry-After</c> suggested to a request the queue turns away.</summary>
    public int RetryAfterSeconds { get; }

    /// <summary>Requests waiting now.</summary>
    public int Count => _service.Waiting;

    /// <summary>Whether the queue was closed for a shutdown.</summary>
    public bool IsClosed => _closed;

    /// <summary>Gets a replica with a reserved slot, waiting in line when every ready replica is full.</summary>
    public ValueTask<AdmissionOutcome> AcquireAsync(CancellationToken aborted) => AcquireAsync(_time.GetTimestamp(), avoid: null, aborted);

    /// <summary>
    /// Places again a request whose attempt on <paramref name="failed"/> failed before any byte reached its client:
    /// on another replica at once if one has room, else it waits at the head of the queue, still counted against the
    /// deadline it had when it was first admitted at <paramref name="admittedAt"/> (a <see cref="TimeProvider"/>
    /// timestamp). It never meets a full queue (it was already admitted), and it is never given
    /// <paramref name="failed"/> again.
    /// </summary>
    public ValueTask<AdmissionOutcome> RequeueAsync(long admittedAt, Replica failed, CancellationToken aborted) =>
        AcquireAsync(admittedAt, failed, aborted);

    private async ValueTask<AdmissionOutcome> AcquireAsync(long admittedAt, Replica? avoid, CancellationToken aborted)
    {
        if (_closed)
        {
            return AdmissionOutcome.Failed(AdmissionFailure.Draining, TimeSpan.Zero);
        }

        // Fast path: nobody is ahead, so taking a free slot now is fair; a request placed again goes first anyway.
        var again = avoid is not null;
        if (again || _service.Waiting == 0)
        {
            var replica = Placement.TryReserve(_service, avoid);
            if (replica is not null)
            {
                return AdmissionOutcome.Placed(replica, again ? _time.GetElapsedTime(admittedAt) : TimeSpan.Zero);
            }
        }

        var left = _maxWait - _time.GetElapsedTime(admittedAt);
        if (left <= TimeSpan.Zero)
        {
            return AdmissionOutcome.Failed(AdmissionFailure.QueueTimeout, _time.GetElapsedTime(admittedAt));
        }

        var waiter = new Waiter(avoid);
        lock (_lock)
        {
            if (_closed)
            {
                return AdmissionOutcome.Failed(AdmissionFailure.Draining, TimeSpan.Zero);
            }

            if (!again && _waiting.Count >= _maxWaiting)
            {
                return AdmissionOutcome.Failed(AdmissionFailure.QueueFull, TimeSpan.Zero);
            }

            waiter.Node = again ? _waiting.AddFirst(waiter) : _waiting.AddLast(waiter);
            SetCount(_waiting.Count);
        }

        // A slot may have freed between the failed placement and joining the queue; look once more.
        Dispatch();

        using var timeout = new CancellationTokenSource(left, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, timeout.Token);
        await using (linked.Token.UnsafeRegister(
            static state =>
            {
                var (queue, w) = ((ServiceQueue, Waiter))state!;
                queue.Abandon(w);
            },
            (this, waiter)))
        {
            try
            {
                var replica = await waiter.Task;
                return AdmissionOutcome.Placed(replica, _time.GetElapsedTime(admittedAt));
            }
            catch (OperationCanceledException)
            {
                var failure = aborted.IsCancellationRequested ? AdmissionFailure.ClientGone
                    : _closed ? AdmissionFailure.Draining
                    : AdmissionFailure.QueueTimeout;
                return AdmissionOutcome.Failed(failure, _time.GetElapsedTime(admittedAt));
            }
        }
    }

    /// <summary>Room may have freed in one of the service's pools: the head of the queue may go now.</summary>
    public void OnCapacityFreed(Pool pool) => Dispatch();

    /// <summary>Hands free slots to waiters, oldest first, until the queue is empty or no replica has room.</summary>
    public void Dispatch()
    {
        if (_service.Waiting == 0)
        {
            return;
        }

        lock (_lock)
        {
            var node = _waiting.First;
            while (node is not null)
            {
                var waiter = node.Value;
                var replica = Placement.TryReserve(_service, waiter.Avoiding);
                if (replica is null)
                {
                    // No room for anyone, unless this waiter only turned down the replica that failed it: that one's room
                    // may still serve those behind it.
                    if (waiter.Avoiding is null)
                    {
                        return;
                    }

                    node = node.Next;
                    continue;
                }

                var next = node.Next;
                _waiting.Remove(node);
                SetCount(_waiting.Count);
                waiter.Node = null;

                // Still queued means not abandoned (abandoning removes under this lock), so this cannot fail;
                // should it, the slot goes back rather than leak.
                if (!waiter.TrySetResult(replica))
                {
                    replica.ReleaseQuietly();
                }

                node = next;
            }
        }
    }

    /// <summary>
    /// Stops taking requests for a shutdown: every waiter is answered at once (503) and later arrivals too;
    /// requests already placed finish.
    /// </summary>
    public void Close()
    {
        List<Waiter> waiters;
        lock (_lock)
        {
            _closed = true;
            waiters = [.. _waiting];
            _waiting.Clear();
            SetCount(0);
            foreach (var waiter in waiters)
            {
                waiter.Node = null;
            }
        }

        foreach (var waiter in waiters)
        {
            waiter.TrySetCanceled();
        }
    }

    /// <summary>Under the lock: the count is kept on the service, where placement's fast path and the scale controller read it.</summary>
    private void SetCount(int count) => _service.SetWaiting(count);

    private void Abandon(Waiter waiter)
    {
        lock (_lock)
        {
            // Already handed a replica: the request owns that slot and gives it back itself.
            if (waiter.Node is null)
            {
                return;
            }

            _waiting.Remove(waiter.Node);
            waiter.Node = null;
            SetCount(_waiting.Count);
        }

        waiter.TrySetCanceled();
    }

    /// <summary>A request waiting for a slot; for one placed again, the replica that failed it and how often that one had recovered then.</summary>
    private sealed class Waiter(Replica? avoid) : TaskCompletionSource<Replica>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        private readonly int _recoveries = avoid?.Recoveries ?? 0;

        /// <summary>The replica that failed this request, until it has recovered since (restarted at the same address, say).</summary>
        public Replica? Avoiding => avoid is not null && avoid.Recoveries == _recoveries ? avoid : null;

        public LinkedListNode<Waiter>? Node { get; set; }
    }
}

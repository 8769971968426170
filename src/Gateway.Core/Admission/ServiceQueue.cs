using Gateway.Balancing;
using Gateway.Configuration;
using Gateway.Model;

namespace Gateway.Admission;

/// <summary>
/// A service's gateway queue: a bounded line of requests waiting for a slot, ordered by priority class and, within a
/// class, shared fairly between tenants. While nobody waits, a request is placed at once without a lock. Otherwise it
/// joins its tenant's line; whenever a slot frees or a replica becomes ready, the queue hands it out: a higher class
/// always before a lower one (<see cref="PriorityClass.Critical"/>, <see cref="PriorityClass.Standard"/>,
/// <see cref="PriorityClass.Sheddable"/>); inside a class, requests placed again after a failed attempt first, then the
/// tenants in turn, one request each (deficit round robin with a cost of one request, so a tenant that sends ten times
/// more does not get ten times the slots while others wait), each tenant's requests in arrival order. A waiter is placed
/// only on pools its tenant may run on; one that cannot use the room there is does not hold back those behind it that
/// can. A full queue turns a Sheddable arrival away, but makes room for a more important one by shedding the newest
/// Sheddable waiter. A waiter that times out or whose client leaves is taken out of the queue before anything is sent
/// anywhere. The queue hears of freed slots as a <see cref="ICapacityListener"/> of its service's pools. A service with a
/// bridge (<see cref="InferenceService.Bridges"/>) hands bridge slots, after the GPU tiers had their turn, to the requests
/// that have waited <see cref="BridgeOptions.MaxQueueWaitMs"/> while <see cref="InferenceService.BridgeOpen"/>; a timer
/// per waiter wakes the queue when that wait is over.
/// </summary>
internal sealed class ServiceQueue : ICapacityListener
{
    private readonly Lock _lock = new();
    private readonly ClassLine[] _lines;
    private readonly Dictionary<Tenant, Lane> _lanes = [];
    private readonly InferenceService _service;
    private readonly TimeProvider _time;
    private readonly int _maxWaiting;
    private readonly TimeSpan _maxWait;

    // The shortest wait after which one of the service's bridges takes a request.
    private readonly TimeSpan _bridgeWait;
    private int _count;
    private long _arrivals;
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
        _bridgeWait = service.Bridges.Count == 0 ? TimeSpan.MaxValue
            : TimeSpan.FromMilliseconds(service.Bridges.Min(b => b.Options.Bridge.MaxQueueWaitMs));

        // Indexed by class: declaration order is importance, so the lowest index is served first.
        var classes = Enum.GetValues<PriorityClass>();
        _lines = new ClassLine[classes.Length];
        foreach (var priority in classes)
        {
            _lines[(int)priority] = new ClassLine();
        }

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

    /// <summary>Requests of <paramref name="tenant"/> waiting now: its own line and those of its placed again after a failed attempt.</summary>
    public int WaitingOf(Tenant tenant)
    {
        lock (_lock)
        {
            var waiting = _lanes.TryGetValue(tenant, out var lane) ? lane.Waiters.Count : 0;
            foreach (var waiter in _lines[(int)tenant.Priority].Again.Waiters)
            {
                if (ReferenceEquals(waiter.Tenant, tenant))
                {
                    waiting++;
                }
            }

            return waiting;
        }
    }

    /// <summary>Whether the queue was closed for a shutdown.</summary>
    public bool IsClosed => _closed;

    /// <summary>Gets a replica with a reserved slot for a request of <paramref name="tenant"/>, waiting in line when every ready replica is full.</summary>
    public ValueTask<AdmissionOutcome> AcquireAsync(Tenant tenant, CancellationToken aborted) =>
        AcquireAsync(tenant, _time.GetTimestamp(), avoid: null, aborted);

    /// <summary>
    /// Places again a request of <paramref name="tenant"/> whose attempt on <paramref name="failed"/> failed before any
    /// byte reached its client: on another replica at once if one has room and no request of a higher class waits, else
    /// it waits ahead of every other request of its class, still counted against the deadline it had when it was first
    /// admitted at <paramref name="admittedAt"/> (a <see cref="TimeProvider"/> timestamp). It never meets a full queue
    /// (it was already admitted), and it is never given <paramref name="failed"/> again.
    /// </summary>
    public ValueTask<AdmissionOutcome> RequeueAsync(Tenant tenant, long admittedAt, Replica failed, CancellationToken aborted) =>
        AcquireAsync(tenant, admittedAt, failed, aborted);

    private async ValueTask<AdmissionOutcome> AcquireAsync(Tenant tenant, long admittedAt, Replica? avoid, CancellationToken aborted)
    {
        if (_closed)
        {
            return AdmissionOutcome.Failed(AdmissionFailure.Draining, TimeSpan.Zero);
        }

        // Fast path: nobody is ahead, so taking a free slot now is fair; a request placed again goes ahead of its class
        // anyway, so only a higher class waiting holds it back.
        var again = avoid is not null;
        if (again ? !WaitsAbove(tenant.Priority) : _service.Waiting == 0)
        {
            var replica = Placement.TryReserve(_service, tenant, avoid);
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

        var waiter = new Waiter(tenant, avoid) { AdmittedAt = admittedAt };
        Waiter? shed = null;
        lock (_lock)
        {
            if (_closed)
            {
                return AdmissionOutcome.Failed(AdmissionFailure.Draining, TimeSpan.Zero);
            }

            if (!again && _count >= _maxWaiting)
            {
                // Full: a more important request takes the place of the newest Sheddable one rather than be turned away.
                shed = tenant.Priority != PriorityClass.Sheddable ? NewestSheddable() : null;
                if (shed is null)
                {
                    return AdmissionOutcome.Failed(AdmissionFailure.QueueFull, TimeSpan.Zero);
                }

                shed.Failure = AdmissionFailure.Shed;
                Unlink(shed);
            }

            Enqueue(waiter, again ? _lines[(int)tenant.Priority].Again : LaneOf(tenant));
        }

        // Not the arrival's token: the shed waiter's own wait ends, for a reason its Failure says.
        shed?.TrySetCanceled(CancellationToken.None);

        // A slot may have freed between the failed placement and joining the queue; look once more.
        Dispatch();

        // A bridge takes a request once it has waited long enough: look again then, as no slot may free before.
        var untilBridge = _bridgeWait - _time.GetElapsedTime(admittedAt);
        using var bridgeDue = _service.Bridges.Count > 0 && untilBridge > TimeSpan.Zero
            ? _time.CreateTimer(static queue => ((ServiceQueue)queue!).Dispatch(), this, untilBridge, Timeout.InfiniteTimeSpan)
            : null;
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
                var failure = waiter.Failure != AdmissionFailure.None ? waiter.Failure
                    : aborted.IsCancellationRequested ? AdmissionFailure.ClientGone
                    : _closed ? AdmissionFailure.Draining
                    : AdmissionFailure.QueueTimeout;
                return AdmissionOutcome.Failed(failure, _time.GetElapsedTime(admittedAt));
            }
        }
    }

    /// <summary>Room may have freed in one of the service's pools: the head of the queue may go now.</summary>
    public void OnCapacityFreed(Pool pool) => Dispatch();

    /// <summary>Hands free slots to waiters, class by class and tenant by tenant in turn, until the queue is empty or no replica has room.</summary>
    public void Dispatch()
    {
        if (_service.Waiting == 0)
        {
            return;
        }

        lock (_lock)
        {
            var noRoomFor = 0;
            foreach (var line in _lines)
            {
                if (!Dispatch(line, ref noRoomFor))
                {
                    break;
                }
            }

            if (_service.Bridges.Count > 0 && _service.Waiting > 0 && _service.BridgeOpen)
            {
                DispatchToBridges();
            }
        }
    }

    /// <summary>
    /// Under the lock, after the GPU tiers had their turn: hands bridge slots to the requests that have waited long
    /// enough, class by class, within a class those placed again first, then each tenant's line in turn, oldest first.
    /// </summary>
    private void DispatchToBridges()
    {
        var now = _time.GetTimestamp();
        foreach (var line in _lines)
        {
            if (!ToBridges(line.Again, now))
            {
                return;
            }

            var turn = line.Turns.First;
            while (turn is not null)
            {
                var next = turn.Next;
                if (!ToBridges(turn.Value, now))
                {
                    return;
                }

                turn = next;
            }
        }
    }

    /// <summary>Under the lock: the waiters of <paramref name="lane"/> that a bridge takes; false once a bridge turned down a request that may go anywhere.</summary>
    private bool ToBridges(Lane lane, long now)
    {
        var node = lane.Waiters.First;
        while (node is not null)
        {
            var next = node.Next;
            var waiter = node.Value;
            var waited = _time.GetElapsedTime(waiter.AdmittedAt, now);
            if (waited < _bridgeWait && lane.Turn is not null)
            {
                // A tenant's line is in arrival order: those behind have waited less still.
                return true;
            }

            if (Placement.TryReserveBridge(_service, waiter.Tenant, waited, waiter.Avoiding) is { } replica)
            {
                Hand(waiter, replica);
            }
            else if (waiter.Avoiding is null && waiter.Tenant.Residency == Residency.Any && waited >= _bridgeWait)
            {
                // Full, or closed to it: the requests behind it have waited no longer.
                return false;
            }

            node = next;
        }

        return true;
    }

    /// <summary>
    /// Stops taking requests for a shutdown: every waiter is answered at once (503) and later arrivals too;
    /// requests already placed finish.
    /// </summary>
    public void Close()
    {
        var waiters = new List<Waiter>();
        lock (_lock)
        {
            _closed = true;
            foreach (var line in _lines)
            {
                waiters.AddRange(line.Again.Waiters);
                foreach (var lane in line.Turns)
                {
                    waiters.AddRange(lane.Waiters);
                }
            }

            foreach (var waiter in waiters)
            {
                Unlink(waiter);
            }
        }

        foreach (var waiter in waiters)
        {
            waiter.TrySetCanceled();
        }
    }

    /// <summary>
    /// Under the lock: hands free slots to the waiters of one class, requests placed again first, then one request of each
    /// tenant in turn. A waiter that cannot use the room there is (an on-prem-only tenant's while only cloud replicas
    /// have room, or a request placed again while only the replica that failed it has) keeps its place and lets those
    /// behind it take that room. False once a waiter that may go anywhere found no room: nobody behind it will either.
    /// </summary>
    private bool Dispatch(ClassLine line, ref int noRoomFor)
    {
        var node = line.Again.Waiters.First;
        while (node is not null)
        {
            var next = node.Next;
            if (TryHand(node.Value, ref noRoomFor) == Handed.NoRoomAnywhere)
            {
                return false;
            }

            node = next;
        }

        var turn = line.Turns.First;
        while (turn is not null)
        {
            switch (TryHand(turn.Value.Waiters.First!.Value, ref noRoomFor))
            {
                case Handed.NoRoomAnywhere:
                    return false;
                case Handed.Skipped:
                    // It keeps its turn for the room it can use.
                    turn = turn.Next;
                    break;
                default:
                    // The tenant had its turn: it goes behind every other tenant of its class, if it still waits.
                    if (turn.List is not null)
                    {
                        line.Turns.Remove(turn);
                        line.Turns.AddLast(turn);
                    }

                    turn = line.Turns.First;
                    break;
            }
        }

        return true;
    }

    /// <summary>
    /// Under the lock: gives <paramref name="waiter"/> a slot if one it may use is free. <paramref name="noRoomFor"/> holds
    /// the residencies (as bits) that found no room earlier in this dispatch: while the lock is held capacity only shrinks
    /// (a slot freed meanwhile brings a dispatch of its own), so a waiter no more free than one that found nothing is
    /// passed over without a look.
    /// </summary>
    private Handed TryHand(Waiter waiter, ref int noRoomFor)
    {
        var tenant = waiter.Tenant;
        var avoiding = waiter.Avoiding;
        var residency = 1 << (int)tenant.Residency;
        if (avoiding is null && (noRoomFor & residency) != 0)
        {
            return Handed.Skipped;
        }

        var replica = Placement.TryReserve(_service, tenant, avoiding);
        if (replica is not null)
        {
            Hand(waiter, replica);
            return Handed.Placed;
        }

        // It only turned down the replica that failed it: that one's room may still serve others.
        if (avoiding is not null)
        {
            return Handed.Skipped;
        }

        if (tenant.Residency == Residency.Any)
        {
            return Handed.NoRoomAnywhere;
        }

        noRoomFor |= residency;
        return Handed.Skipped;
    }

    /// <summary>
    /// Under the lock: the Sheddable request that arrived last, to make room in a full queue; one placed again (it has
    /// waited since its first arrival) only when no other Sheddable request waits. Null when none waits.
    /// </summary>
    private Waiter? NewestSheddable()
    {
        var line = _lines[(int)PriorityClass.Sheddable];
        Waiter? newest = null;
        foreach (var lane in line.Turns)
        {
            var last = lane.Waiters.Last!.Value;
            if (newest is null || last.Arrival > newest.Arrival)
            {
                newest = last;
            }
        }

        return newest ?? line.Again.Waiters.Last?.Value;
    }

    /// <summary>Under the lock: whether requests of a class above <paramref name="priority"/> wait.</summary>
    private bool WaitsAbove(PriorityClass priority)
    {
        for (var above = 0; above < (int)priority; above++)
        {
            if (_service.WaitingIn((PriorityClass)above) > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Under the lock: the line of <paramref name="tenant"/>'s new requests, made on its first request.</summary>
    private Lane LaneOf(Tenant tenant)
    {
        if (!_lanes.TryGetValue(tenant, out var lane))
        {
            lane = new Lane(_lines[(int)tenant.Priority], turns: true);
            _lanes.Add(tenant, lane);
        }

        return lane;
    }

    /// <summary>Under the lock: <paramref name="waiter"/> joins the tail of <paramref name="lane"/>, and a tenant that had nobody waiting takes its turn behind the others.</summary>
    private void Enqueue(Waiter waiter, Lane lane)
    {
        waiter.Lane = lane;
        waiter.Arrival = ++_arrivals;
        waiter.Node = lane.Waiters.AddLast(waiter);
        if (lane.Turn is { List: null } turn)
        {
            lane.Line.Turns.AddLast(turn);
        }

        _count++;
        _service.CountWaiting(waiter.Tenant.Priority, waiter.ForCloud, 1);
    }

    /// <summary>Under the lock: takes <paramref name="waiter"/> out of its line; a tenant with nobody left waiting gives up its turn.</summary>
    private void Unlink(Waiter waiter)
    {
        var lane = waiter.Lane!;
        lane.Waiters.Remove(waiter.Node!);
        waiter.Node = null;
        waiter.Lane = null;
        if (lane.Waiters.Count == 0 && lane.Turn is { List: not null } turn)
        {
            lane.Line.Turns.Remove(turn);
        }

        _count--;
        _service.CountWaiting(waiter.Tenant.Priority, waiter.ForCloud, -1);
    }

    /// <summary>Under the lock: gives <paramref name="replica"/>'s reserved slot to <paramref name="waiter"/>.</summary>
    private void Hand(Waiter waiter, Replica replica)
    {
        Unlink(waiter);

        // Still queued means not abandoned (abandoning removes under this lock), so this cannot fail; should it, the
        // slot goes back rather than leak.
        if (!waiter.TrySetResult(replica))
        {
            replica.ReleaseQuietly();
        }
    }

    private void Abandon(Waiter waiter)
    {
        lock (_lock)
        {
            // Already handed a replica: the request owns that slot and gives it back itself.
            if (waiter.Node is null)
            {
                return;
            }

            Unlink(waiter);
        }

        waiter.TrySetCanceled();
    }

    /// <summary>What <see cref="TryHand"/> did with a waiter.</summary>
    private enum Handed
    {
        Placed,

        /// <summary>Nothing it may use is free; it keeps its place, and others may use what is free.</summary>
        Skipped,

        /// <summary>It may go anywhere and found no room: nobody finds any.</summary>
        NoRoomAnywhere,
    }

    /// <summary>The waiting requests of one class: those placed again, then each tenant's line, in turn.</summary>
    private sealed class ClassLine
    {
        public ClassLine() => Again = new Lane(this, turns: false);

        /// <summary>Requests placed again after a failed attempt, oldest first: ahead of the tenants' lines.</summary>
        public Lane Again { get; }

        /// <summary>The tenants with requests waiting, the next to be served first.</summary>
        public LinkedList<Lane> Turns { get; } = new();
    }

    /// <summary>Requests in arrival order: one tenant's new requests, or a class's requests placed again.</summary>
    private sealed class Lane
    {
        public Lane(ClassLine line, bool turns)
        {
            Line = line;
            Turn = turns ? new LinkedListNode<Lane>(this) : null;
        }

        public ClassLine Line { get; }

        public LinkedList<Waiter> Waiters { get; } = new();

        /// <summary>The tenant's place among its class's <see cref="ClassLine.Turns"/> (in it while it has waiters); null for <see cref="ClassLine.Again"/>.</summary>
        public LinkedListNode<Lane>? Turn { get; }
    }

    /// <summary>A request waiting for a slot; for one placed again, the replica that failed it and how often that one had recovered then.</summary>
    private sealed class Waiter(Tenant tenant, Replica? avoid) : TaskCompletionSource<Replica>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        private readonly int _recoveries = avoid?.Recoveries ?? 0;

        public Tenant Tenant => tenant;

        /// <summary>Whether a cloud pool may serve it: it counts toward the demand cloud replicas could take.</summary>
        public bool ForCloud => tenant.Residency == Residency.Any;

        /// <summary>The replica that failed this request, until it has recovered since (restarted at the same address, say).</summary>
        public Replica? Avoiding => avoid is not null && avoid.Recoveries == _recoveries ? avoid : null;

        /// <summary>The line it waits in, while it waits.</summary>
        public Lane? Lane { get; set; }

        public LinkedListNode<Waiter>? Node { get; set; }

        /// <summary>When the request was first admitted (a <see cref="TimeProvider"/> timestamp): its wait counts from there.</summary>
        public long AdmittedAt { get; init; }

        /// <summary>When it joined the queue, in the order of joining.</summary>
        public long Arrival { get; set; }

        /// <summary>Why the queue itself took it out without a slot (<see cref="AdmissionFailure.Shed"/>), or none.</summary>
        public AdmissionFailure Failure { get; set; }
    }
}

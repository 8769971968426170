namespace Gateway.Model;

/// <summary>
/// One vLLM server (a destination). Its in-flight count is the gateway's own: a slot is reserved with a
/// compare-and-swap before a request is forwarded and given back when the answer ends, so the count never
/// exceeds the capacity, whatever the concurrency.
/// </summary>
public sealed class Replica
{
    private int _inFlight;
    private int _peakInFlight;
    private long _served;
    private int _recoveries;
    private volatile ReplicaState _state;
    private volatile bool _healthy = true;
    private volatile ReplicaLoad? _load;

    internal Replica(string id, Uri address, Pool pool, ReplicaState state)
    {
        Id = id;
        Address = address;
        DestinationPrefix = address.GetLeftPart(UriPartial.Authority);
        Pool = pool;
        _state = state;
        Health = new ReplicaHealth(this);

        // Built once: YARP would otherwise concatenate and parse a Uri on every forwarded request. A hosted API's base
        // URL holds its version (https://api.example.com/v1), as OpenAI's SDKs take it; a vLLM server's is its root.
        var apiBase = pool.IsProvider ? address.AbsoluteUri.TrimEnd('/') : DestinationPrefix + "/v1";
        ChatCompletionsAddress = new Uri(apiBase + "/chat/completions");
        CompletionsAddress = new Uri(apiBase + "/completions");
    }

    /// <summary>A name unique in its pool, e.g. <c>on-prem-1</c>.</summary>
    public string Id { get; }

    /// <summary>The server's root address.</summary>
    public Uri Address { get; }

    /// <summary>The address as YARP's forwarder takes it: scheme, host and port, no trailing slash.</summary>
    public string DestinationPrefix { get; }

    /// <summary>The replica's <c>/v1/chat/completions</c>.</summary>
    public Uri ChatCompletionsAddress { get; }

    /// <summary>The replica's <c>/v1/completions</c>.</summary>
    public Uri CompletionsAddress { get; }

    /// <summary>The pool the replica belongs to.</summary>
    public Pool Pool { get; }

    /// <summary>Where the replica is in its life.</summary>
    public ReplicaState State => _state;

    /// <summary>Whether health checks (active probes, failures seen in real traffic) find the replica serving.</summary>
    public bool IsHealthy => _healthy;

    /// <summary>Failures in a row and the probe schedule behind <see cref="IsHealthy"/>.</summary>
    internal ReplicaHealth Health { get; }

    /// <summary>The replica's own load figures from its last fresh scrape, or null when unknown (never scraped, or stale).</summary>
    public ReplicaLoad? Load => _load;

    /// <summary>Requests this gateway has in flight on the replica.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>
    /// Requests on the replica as far as this gateway can tell: its own in flight plus what other clients (other
    /// gateway replicas) had running or waiting there at the last scrape.
    /// </summary>
    public int EffectiveInFlight => InFlight + (_load?.OthersInFlight ?? 0);

    /// <summary>Whether the replica may take a new request now, slots aside: ready, healthy, and not saturated by its own account.</summary>
    public bool IsAvailable => _state == ReplicaState.Ready && _healthy && _load is not { Saturated: true };

    /// <summary>The most requests this gateway ever had in flight on the replica at once.</summary>
    public int PeakInFlight => Volatile.Read(ref _peakInFlight);

    /// <summary>
    /// How many times the replica has come back from failing: taken out and healthy again, or failures in a row
    /// cleared by a success. A request that failed on it avoids it until this moves.
    /// </summary>
    public int Recoveries => Volatile.Read(ref _recoveries);

    /// <summary>Requests placed on the replica so far.</summary>
    public long Served => Interlocked.Read(ref _served);

    /// <summary>The operating-system process id, for replicas the gateway started itself.</summary>
    public int? ProcessId { get; internal set; }

    /// <summary>Requests the replica serves at once.</summary>
    public int Capacity => Pool.CapacityPerReplica;

    /// <summary>Takes a slot if the replica is ready and has one free.</summary>
    internal bool TryReserve() => TryReserve(Pool.CapacityPerReplica);

    /// <summary>Takes a slot if the replica is ready and has fewer than <paramref name="slots"/> (at most its capacity) in flight.</summary>
    internal bool TryReserve(int slots)
    {
        var capacity = Math.Min(slots, Pool.CapacityPerReplica);
        while (true)
        {
            var current = Volatile.Read(ref _inFlight);
            var load = _load;
            if (current + (load?.OthersInFlight ?? 0) >= capacity || !IsAvailable)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _inFlight, current + 1, current) == current)
            {
                RaisePeak(current + 1);
                Interlocked.Increment(ref _served);
                return true;
            }
        }
    }

    /// <summary>Gives a slot back without waking the queue: for the queue itself, which is already dispatching.</summary>
    internal void ReleaseQuietly() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Gives a slot back and lets the head of the service's queue take it.</summary>
    internal void Release()
    {
        Interlocked.Decrement(ref _inFlight);
        Pool.OnCapacityFreed();
    }

    /// <summary>Moves the replica to another state; a replica that becomes ready wakes the queue.</summary>
    public void SetState(ReplicaState state)
    {
        _state = state;
        if (state == ReplicaState.Ready)
        {
            Pool.OnCapacityFreed();
        }
    }

    /// <summary>Marks the replica healthy or not; a replica that recovers wakes the queue.</summary>
    internal void SetHealthy(bool healthy)
    {
        var was = _healthy;
        _healthy = healthy;
        if (healthy && !was)
        {
            MarkRecovered();
        }
    }

    /// <summary>Records the last scrape (null: unknown, placement then goes by this gateway's own count); may free room.</summary>
    internal void SetLoad(ReplicaLoad? load)
    {
        var before = _load;
        _load = load;
        if ((before?.Saturated ?? false) && !(load?.Saturated ?? false) || (before?.OthersInFlight ?? 0) > (load?.OthersInFlight ?? 0))
        {
            Pool.OnCapacityFreed();
        }
    }

    /// <summary>The replica works again after failing (see <see cref="Recoveries"/>); requests that avoided it may take it.</summary>
    internal void MarkRecovered()
    {
        Interlocked.Increment(ref _recoveries);
        Pool.OnCapacityFreed();
    }

    private void RaisePeak(int value)
    {
        var peak = Volatile.Read(ref _peakInFlight);
        while (value > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peakInFlight, value, peak);
            if (seen == peak)
            {
                return;
            }

            peak = seen;
        }
    }
}

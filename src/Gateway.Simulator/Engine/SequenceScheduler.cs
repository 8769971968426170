using Gateway.Simulator.Options;

namespace Gateway.Simulator.Engine;

/// <summary>
/// The simulated engine's batch: at most <c>--max-num-seqs</c> sequences run, the rest wait in FIFO order,
/// and a bounded waiting queue rejects beyond its length. KV cache use follows the tokens that running
/// sequences hold, in blocks, as vLLM's paged attention allocates them.
/// </summary>
internal sealed class SequenceScheduler
{
    private readonly object _lock = new();
    private readonly LinkedList<Waiter> _waiting = new();
    private readonly int _maxRunning;
    private readonly int _maxWaiting;
    private readonly int _blockSize;
    private readonly int _kvCacheBlocks;
    private int _running;
    private int _waitingCount;
    private long _kvBlocksHeld;

    public SequenceScheduler(SimulatorOptions options)
    {
        _maxRunning = options.MaxNumSeqs;
        _maxWaiting = options.MaxWaitingQueueLength;
        _blockSize = options.BlockSize;
        _kvCacheBlocks = options.KvCacheSize;
    }

    /// <summary>Sequences running now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Requests waiting for a free sequence.</summary>
    public int Waiting => Volatile.Read(ref _waitingCount);

    /// <summary>Share of the KV cache held by running sequences, 0..1.</summary>
    public double KvCacheUsage => Math.Min(1.0, (double)Interlocked.Read(ref _kvBlocksHeld) / _kvCacheBlocks);

    /// <summary>
    /// Asks for a sequence. Decides at once whether the request may wait (a full waiting queue rejects it);
    /// the returned admission then completes when a sequence is free, or is cancelled with the client.
    /// </summary>
    public Admission Admit(CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_lock)
        {
            if (_running < _maxRunning && _waiting.Count == 0)
            {
                _running++;
                return Admission.Running;
            }

            if (_waiting.Count >= _maxWaiting)
            {
                return Admission.Rejected;
            }

            waiter = new Waiter();
            waiter.Node = _waiting.AddLast(waiter);
            _waitingCount = _waiting.Count;
        }

        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var (scheduler, w) = ((SequenceScheduler, Waiter))state!;
                scheduler.CancelWaiter(w, token);
            }, (this, waiter));
        }

        return new Admission(waiter);
    }

    /// <summary>Starts holding KV blocks for a sequence of <paramref name="tokens"/> tokens.</summary>
    internal void HoldTokens(int previousTokens, int tokens)
    {
        var delta = Blocks(tokens) - Blocks(previousTokens);
        if (delta != 0)
        {
            Interlocked.Add(ref _kvBlocksHeld, delta);
        }
    }

    /// <summary>Ends a sequence: its KV blocks are freed and its slot goes to the oldest waiter, if any.</summary>
    internal void Release(int tokensHeld)
    {
        HoldTokens(tokensHeld, 0);
        lock (_lock)
        {
            var first = _waiting.First;
            if (first is not null)
            {
                // The slot passes straight to the next waiter; the running count does not change.
                _waiting.RemoveFirst();
                _waitingCount = _waiting.Count;
                first.Value.TrySetResult(true);
                return;
            }

            _running--;
        }
    }

    private void CancelWaiter(Waiter waiter, CancellationToken token)
    {
        lock (_lock)
        {
            // Already handed a slot: the request owns it and releases it itself.
            if (waiter.Node?.List is null)
            {
                return;
            }

            _waiting.Remove(waiter.Node);
            _waitingCount = _waiting.Count;
        }

        waiter.TrySetCanceled(token);
    }

    private long Blocks(int tokens) => (tokens + _blockSize - 1) / _blockSize;

    internal sealed class Waiter() : TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public LinkedListNode<Waiter>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }
    }
}

/// <summary>The scheduler's answer: running at once, waiting for a slot, or rejected (waiting queue full).</summary>
internal readonly struct Admission
{
    private readonly SequenceScheduler.Waiter? _waiter;
    private readonly bool _rejected;

    internal Admission(SequenceScheduler.Waiter waiter) => _waiter = waiter;

    private Admission(bool rejected) => _rejected = rejected;

    public static Admission Running => default;

    public static Admission Rejected => new(rejected: true);

    public bool IsRejected => _rejected;

    public bool IsWaiting => _waiter is not null;

    /// <summary>Completes when the request holds a slot; throws <see cref="OperationCanceledException"/> if the client left first.</summary>
    public async ValueTask WaitAsync()
    {
        if (_waiter is null)
        {
            return;
        }

        try
        {
            await _waiter.Task;
        }
        finally
        {
            await _waiter.Registration.DisposeAsync();
        }
    }
}

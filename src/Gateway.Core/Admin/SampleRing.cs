namespace Gateway.Admin;

/// <summary>
/// The last <see cref="Capacity"/> samples, each a timestamp and a row of <see cref="Width"/> numbers, in one array
/// allocated at start: a new sample overwrites the oldest, so the memory is the same after a minute or a month and
/// whatever the traffic. One writer (the sampler) and any number of readers; the lock guards a row copy, never an await.
/// </summary>
internal sealed class SampleRing
{
    private readonly Lock _lock = new();
    private readonly long[] _times;
    private readonly int[] _values;
    private int _next;
    private int _count;

    /// <summary>A ring of <paramref name="capacity"/> samples of <paramref name="width"/> numbers each.</summary>
    public SampleRing(int capacity, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        Capacity = capacity;
        Width = width;
        _times = new long[capacity];
        _values = new int[capacity * width];
    }

    /// <summary>The most samples kept.</summary>
    public int Capacity { get; }

    /// <summary>Numbers in one sample.</summary>
    public int Width { get; }

    /// <summary>Samples kept now: up to <see cref="Capacity"/>.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>The bytes the samples take, fixed at start.</summary>
    public long Bytes => (_times.LongLength * sizeof(long)) + (_values.LongLength * sizeof(int));

    /// <summary>Adds a sample taken at <paramref name="at"/>, overwriting the oldest once the ring is full.</summary>
    public void Add(long at, ReadOnlySpan<int> values)
    {
        if (values.Length != Width)
        {
            throw new ArgumentException($"a sample has {Width} numbers, not {values.Length}", nameof(values));
        }

        lock (_lock)
        {
            _times[_next] = at;
            values.CopyTo(_values.AsSpan(_next * Width, Width));
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
        }
    }

    /// <summary>
    /// A copy of the samples taken after <paramref name="after"/> (all of them for <see cref="long.MinValue"/>), oldest
    /// first: their times, and their numbers row after row.
    /// </summary>
    public (long[] Times, int[] Values) Read(long after = long.MinValue)
    {
        lock (_lock)
        {
            // Oldest first from the slot the next sample overwrites; skip those not after the given time.
            var oldest = (_next - _count + Capacity) % Capacity;
            var skip = 0;
            while (skip < _count && _times[(oldest + skip) % Capacity] <= after)
            {
                skip++;
            }

            var count = _count - skip;
            var times = new long[count];
            var values = new int[count * Width];
            for (var i = 0; i < count; i++)
            {
                var slot = (oldest + skip + i) % Capacity;
                times[i] = _times[slot];
                _values.AsSpan(slot * Width, Width).CopyTo(values.AsSpan(i * Width, Width));
            }

            return (times, values);
        }
    }
}

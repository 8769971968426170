using Gateway.Admin;

namespace Gateway.Tests.Admin;

public sealed class SampleRingTests
{
    private static void AddSamples(SampleRing ring, int from, int to)
    {
        for (var i = from; i <= to; i++)
        {
            ring.Add(i * 1000L, [i, -i]);
        }
    }

    [Fact]
    public void Read_FewerSamplesThanCapacity_ReturnsThemOldestFirst()
    {
        var ring = new SampleRing(capacity: 4, width: 2);
        AddSamples(ring, 1, 3);

        var (times, values) = ring.Read();

        Assert.Equal(3, ring.Count);
        Assert.Equal([1000L, 2000L, 3000L], times);
        Assert.Equal([1, -1, 2, -2, 3, -3], values);
    }

    [Fact]
    public void Add_PastCapacity_OverwritesTheOldestAndKeepsTheOrder()
    {
        var ring = new SampleRing(capacity: 4, width: 2);
        AddSamples(ring, 1, 10);

        var (times, values) = ring.Read();

        Assert.Equal(4, ring.Count);
        Assert.Equal([7000L, 8000L, 9000L, 10000L], times);
        Assert.Equal([7, -7, 8, -8, 9, -9, 10, -10], values);
    }

    [Fact]
    public void Read_After_ReturnsOnlyTheNewerSamples_AcrossTheWraparound()
    {
        var ring = new SampleRing(capacity: 4, width: 2);
        AddSamples(ring, 1, 6);

        Assert.Equal([5000L, 6000L], ring.Read(after: 4000).Times);
        Assert.Equal([5, -5, 6, -6], ring.Read(after: 4500).Values);
        Assert.Equal([3000L, 4000L, 5000L, 6000L], ring.Read(after: 0).Times);
        Assert.Empty(ring.Read(after: 6000).Times);
    }

    [Fact]
    public void Read_Empty_ReturnsNothing()
    {
        var (times, values) = new SampleRing(capacity: 3, width: 5).Read();

        Assert.Empty(times);
        Assert.Empty(values);
    }

    [Fact]
    public void Bytes_AreFixedByCapacityAndWidth_WhateverIsAdded()
    {
        var ring = new SampleRing(capacity: 900, width: 17);
        var before = ring.Bytes;
        for (var i = 0; i < 2000; i++)
        {
            ring.Add(i, new int[17]);
        }

        Assert.Equal((900 * 8) + (900 * 17 * 4), before);
        Assert.Equal(before, ring.Bytes);
        Assert.Equal(900, ring.Count);
    }

    [Fact]
    public void Add_ASampleOfAnotherWidth_Throws()
    {
        var ring = new SampleRing(capacity: 3, width: 2);

        var e = Assert.Throws<ArgumentException>(() => ring.Add(1, [1, 2, 3]));

        Assert.StartsWith("a sample has 2 numbers, not 3", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, ring.Count);
    }
}

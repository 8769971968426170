using Gateway.Configuration;
using Gateway.Model;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Balancing;

public sealed class PlacementConcurrencyTests
{
    private const int Threads = 8;
    // Enough rounds that a check-then-increment reservation is caught every run even on a two-core machine.
    private const int Reservations = 100_000;

    [Theory]
    [InlineData(BalancingMode.SpillOver)]
    [InlineData(BalancingMode.RoundRobin)]
    public void TryReserve_ManyThreadsReserveAndRelease_NeverExceedsAnyReplicasCapacity(BalancingMode balancing)
    {
        // Fewer slots (4) than threads (8), so threads keep racing for the last free slot of a replica.
        var options = Service(Pool("on-prem", 0, 2, "http://10.0.0.1:8000"), Pool("cloud", 1, 1, "http://10.0.1.1:8000"));
        options.Balancing = balancing;

        // The gateway shares Random.Shared between threads; a seeded Random is not thread-safe.
        var service = Build(Options(options), random: Random.Shared).Services[0];
        var replicas = new[]
        {
            Add(service.OnPrem(), "http://10.0.0.1:8000"),
            Add(service.Cloud(), "http://10.0.1.1:8000"),
            Add(service.Cloud(), "http://10.0.1.2:8000"),
        };
        var placed = 0;
        var overCapacity = 0;

        // Dedicated threads rather than Parallel.For: the thread pool starts with one thread per core, which
        // on a small machine is fewer than the slots and would never make two threads race for one.
        using var start = new Barrier(Threads);
        var workers = new Thread[Threads];
        for (var t = 0; t < Threads; t++)
        {
            workers[t] = new Thread(() =>
            {
                start.SignalAndWait();
                for (var i = 0; i < Reservations / Threads; i++)
                {
                    if (service.Placement.TryReserve(service, Tenant.Anonymous) is not { } replica)
                    {
                        continue;
                    }

                    Interlocked.Increment(ref placed);
                    if (replica.InFlight > replica.Capacity)
                    {
                        Interlocked.Increment(ref overCapacity);
                    }

                    Thread.SpinWait(20);
                    replica.Release();
                }
            });
            workers[t].Start();
        }

        foreach (var worker in workers)
        {
            Assert.True(worker.Join(TimeSpan.FromSeconds(30)));
        }

        Assert.Equal(0, overCapacity);
        Assert.All(replicas, r => Assert.InRange(r.PeakInFlight, 0, r.Capacity));
        Assert.Equal([0, 0, 0], Array.ConvertAll(replicas, r => r.InFlight));
        Assert.Equal(placed, (int)replicas.Sum(r => r.Served));
        Assert.InRange(placed, 1, Reservations);
    }
}

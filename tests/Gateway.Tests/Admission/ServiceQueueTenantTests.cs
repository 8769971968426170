using Gateway.Admission;
using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Admission;

/// <summary>What the queue does with tenants: classes in order, a fair share between the tenants of a class.</summary>
public sealed class ServiceQueueTenantTests
{
    private readonly FakeTimeProvider _time = new();

    private InferenceService Service(int maxWaiting = 1000) =>
        TwoTiers(onPremCapacity: 1, cloudCapacity: 1, _time, new QueueOptions { MaxWaiting = maxWaiting, MaxWaitSeconds = 30 });

    private static Tenant Tenant(string name, PriorityClass priority = PriorityClass.Standard, Residency residency = Residency.Any) =>
        new(new TenantOptions { Name = name, Priority = priority, Residency = residency });

    private static Task<AdmissionOutcome> Within(Task<AdmissionOutcome> waiter) => waiter.WaitAsync(TimeSpan.FromSeconds(10));

    /// <summary>A replica of <paramref name="pool"/> with its one slot taken, so that requests queue.</summary>
    private static Replica Full(Pool pool, string address)
    {
        var replica = Add(pool, address);
        Assert.True(replica.TryReserve());
        return replica;
    }

    [Fact]
    public async Task Dispatch_WaitersOfEveryClass_PlacesCriticalThenStandardThenSheddable()
    {
        var service = Service();
        var replica = Full(service.OnPrem(), "http://10.0.0.1:8000");

        // They arrive least important first.
        var sheddable = service.Queue.AcquireAsync(Tenant("batch", PriorityClass.Sheddable), CancellationToken.None).AsTask();
        var standard = service.Queue.AcquireAsync(Tenant("app", PriorityClass.Standard), CancellationToken.None).AsTask();
        var critical = service.Queue.AcquireAsync(Tenant("chat", PriorityClass.Critical), CancellationToken.None).AsTask();
        Assert.Equal((1, 1, 1), (service.WaitingIn(PriorityClass.Critical), service.WaitingIn(PriorityClass.Standard), service.WaitingIn(PriorityClass.Sheddable)));

        replica.Release();
        Assert.Same(replica, (await Within(critical)).Replica);
        Assert.False(standard.IsCompleted);
        Assert.False(sheddable.IsCompleted);

        replica.Release();
        Assert.Same(replica, (await Within(standard)).Replica);
        Assert.False(sheddable.IsCompleted);

        replica.Release();
        Assert.Same(replica, (await Within(sheddable)).Replica);
        Assert.Equal((0, 0, 0), (service.WaitingIn(PriorityClass.Critical), service.WaitingIn(PriorityClass.Standard), service.WaitingIn(PriorityClass.Sheddable)));
    }

    [Fact]
    public async Task Dispatch_TwoTenantsOfferingOneToTen_EachGetsAtLeastFortyPercentWhileBothWait()
    {
        var service = Service();
        var replica = Full(service.OnPrem(), "http://10.0.0.1:8000");
        var (small, large) = (Tenant("small"), Tenant("large"));

        // Ten of the large tenant's requests for each of the small one's, the large one first each time.
        var waiting = new List<(Tenant Tenant, Task<AdmissionOutcome> Outcome)>();
        for (var round = 0; round < 10; round++)
        {
            for (var i = 0; i < 10; i++)
            {
                waiting.Add((large, service.Queue.AcquireAsync(large, CancellationToken.None).AsTask()));
            }

            waiting.Add((small, service.Queue.AcquireAsync(small, CancellationToken.None).AsTask()));
        }

        var placed = new Dictionary<Tenant, int> { [small] = 0, [large] = 0 };
        while (placed[small] < 10)
        {
            replica.Release();
            var done = await Task.WhenAny(waiting.Select(w => w.Outcome)).WaitAsync(TimeSpan.FromSeconds(10));
            var served = waiting.Single(w => w.Outcome == done);
            Assert.Same(replica, (await done).Replica);
            waiting.Remove(served);
            placed[served.Tenant]++;
        }

        // Round robin between the two: 10 each, where arrival order would have given the small tenant 10 of 110.
        Assert.Equal(10, placed[small]);
        Assert.Equal(10, placed[large]);
        Assert.InRange(placed[small] / (double)(placed[small] + placed[large]), 0.4, 0.6);
        Assert.Equal(90, service.Queue.Count);
        Assert.All(waiting, w => Assert.False(w.Outcome.IsCompleted));
    }

    [Fact]
    public async Task Dispatch_TenantJoinsBehindABacklog_IsServedInItsTurnNotAfterTheBacklog()
    {
        var service = Service();
        var replica = Full(service.OnPrem(), "http://10.0.0.1:8000");
        var bulk = Tenant("bulk");
        var backlog = new List<Task<AdmissionOutcome>>();
        for (var i = 0; i < 5; i++)
        {
            backlog.Add(service.Queue.AcquireAsync(bulk, CancellationToken.None).AsTask());
        }

        var late = service.Queue.AcquireAsync(Tenant("late"), CancellationToken.None).AsTask();

        replica.Release();
        Assert.Same(replica, (await Within(backlog[0])).Replica);
        replica.Release();
        Assert.Same(replica, (await Within(late)).Replica);
        Assert.All(backlog.Skip(1), b => Assert.False(b.IsCompleted));
    }

    [Fact]
    public async Task AcquireAsync_OnlyLowerClassesWaitAndASlotIsFree_TakesItAheadOfThem()
    {
        var service = Service();
        var replica = Full(service.OnPrem(), "http://10.0.0.1:8000");
        var sheddable = service.Queue.AcquireAsync(Tenant("batch", PriorityClass.Sheddable), CancellationToken.None).AsTask();

        // The slot comes back without waking the queue: the critical arrival finds it, but only through the line.
        replica.ReleaseQuietly();
        var critical = await Within(service.Queue.AcquireAsync(Tenant("chat", PriorityClass.Critical), CancellationToken.None).AsTask());

        Assert.Same(replica, critical.Replica);
        Assert.False(sheddable.IsCompleted);
    }

    [Fact]
    public async Task RequeueAsync_AHigherClassWaits_WaitsBehindItThoughAheadOfItsOwnClass()
    {
        var service = Service();
        var onPrem = Full(service.OnPrem(), "http://10.0.0.1:8000");
        var failed = Full(service.Cloud(), "http://10.0.1.1:8000");
        var standard = Tenant("app", PriorityClass.Standard);
        var critical = service.Queue.AcquireAsync(Tenant("chat", PriorityClass.Critical), CancellationToken.None).AsTask();
        var newer = service.Queue.AcquireAsync(standard, CancellationToken.None).AsTask();

        var again = service.Queue.RequeueAsync(standard, _time.GetTimestamp(), failed, CancellationToken.None).AsTask();
        Assert.False(again.IsCompleted);

        onPrem.Release();
        Assert.Same(onPrem, (await Within(critical)).Replica);
        Assert.False(again.IsCompleted);

        onPrem.Release();
        Assert.Same(onPrem, (await Within(again)).Replica);
        Assert.False(newer.IsCompleted);
    }
}

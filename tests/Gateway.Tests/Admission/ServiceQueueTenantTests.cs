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
        var sheddable = service.Queue.AcquireAsync(NewTenant("batch", PriorityClass.Sheddable), CancellationToken.None).AsTask();
        var standard = service.Queue.AcquireAsync(NewTenant("app", PriorityClass.Standard), CancellationToken.None).AsTask();
        var critical = service.Queue.AcquireAsync(NewTenant("chat", PriorityClass.Critical), CancellationToken.None).AsTask();
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
        var (small, large) = (NewTenant("small"), NewTenant("large"));

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
        var bulk = NewTenant("bulk");
        var backlog = new List<Task<AdmissionOutcome>>();
        for (var i = 0; i < 5; i++)
        {
            backlog.Add(service.Queue.AcquireAsync(bulk, CancellationToken.None).AsTask());
        }

        var late = service.Queue.AcquireAsync(NewTenant("late"), CancellationToken.None).AsTask();

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
        var sheddable = service.Queue.AcquireAsync(NewTenant("batch", PriorityClass.Sheddable), CancellationToken.None).AsTask();

        // The slot comes back without waking the queue: the critical arrival finds it, but only through the line.
        replica.ReleaseQuietly();
        var critical = await Within(service.Queue.AcquireAsync(NewTenant("chat", PriorityClass.Critical), CancellationToken.None).AsTask());

        Assert.Same(replica, critical.Replica);
        Assert.False(sheddable.IsCompleted);
    }

    [Fact]
    public async Task RequeueAsync_AHigherClassWaits_WaitsBehindItThoughAheadOfItsOwnClass()
    {
        var service = Service();
        var onPrem = Full(service.OnPrem(), "http://10.0.0.1:8000");
        var failed = Full(service.Cloud(), "http://10.0.1.1:8000");
        var standard = NewTenant("app", PriorityClass.Standard);
        var critical = service.Queue.AcquireAsync(NewTenant("chat", PriorityClass.Critical), CancellationToken.None).AsTask();
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

    [Fact]
    public async Task AcquireAsync_OnPremOnlyTenantAndOnlyTheCloudHasRoom_WaitsForOnPremInsteadOfSpilling()
    {
        var service = Service();
        var onPrem = Full(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");

        var pinned = service.Queue.AcquireAsync(NewTenant("records", residency: Residency.OnPremOnly), CancellationToken.None).AsTask();

        Assert.False(pinned.IsCompleted);
        Assert.Equal(1, service.Queue.Count);
        Assert.Equal(0, cloud.InFlight);
        onPrem.Release();
        Assert.Same(onPrem, (await Within(pinned)).Replica);
        Assert.Equal(0, cloud.InFlight);
    }

    [Fact]
    public async Task Release_OnlyACloudSlotFreesAndTheHeadIsOnPremOnly_TheWaiterBehindTakesIt()
    {
        var service = Service();
        var onPrem = Full(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Full(service.Cloud(), "http://10.0.1.1:8000");
        var pinned = service.Queue.AcquireAsync(NewTenant("records", residency: Residency.OnPremOnly), CancellationToken.None).AsTask();
        var anywhere = service.Queue.AcquireAsync(NewTenant("chat"), CancellationToken.None).AsTask();

        cloud.Release();

        Assert.Same(cloud, (await Within(anywhere)).Replica);
        Assert.False(pinned.IsCompleted);
        Assert.Equal(1, service.Queue.Count);

        // The pinned tenant kept its turn: the next on-prem slot is its.
        var later = service.Queue.AcquireAsync(NewTenant("chat-2"), CancellationToken.None).AsTask();
        onPrem.Release();
        Assert.Same(onPrem, (await Within(pinned)).Replica);
        Assert.False(later.IsCompleted);
    }

    [Fact]
    public async Task Release_OnlyACloudSlotFreesAndACriticalOnPremOnlyWaits_ALowerClassTakesIt()
    {
        var service = Service();
        Full(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Full(service.Cloud(), "http://10.0.1.1:8000");
        var pinned = service.Queue.AcquireAsync(NewTenant("records", PriorityClass.Critical, Residency.OnPremOnly), CancellationToken.None).AsTask();
        var sheddable = service.Queue.AcquireAsync(NewTenant("batch", PriorityClass.Sheddable), CancellationToken.None).AsTask();

        cloud.Release();

        Assert.Same(cloud, (await Within(sheddable)).Replica);
        Assert.False(pinned.IsCompleted);
    }

    [Fact]
    public async Task RequeueAsync_OnPremOnlyTenantWhoseOnPremReplicaFailed_WaitsRatherThanGoToTheCloud()
    {
        var service = Service();
        var failed = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");
        var pinned = NewTenant("records", residency: Residency.OnPremOnly);

        var again = service.Queue.RequeueAsync(pinned, _time.GetTimestamp(), failed, CancellationToken.None).AsTask();

        Assert.False(again.IsCompleted);
        Assert.Equal(0, cloud.InFlight);

        // Back from a restart, the failed replica is no longer avoided.
        failed.SetHealthy(false);
        failed.SetHealthy(true);
        Assert.Same(failed, (await Within(again)).Replica);
        Assert.Equal(0, cloud.InFlight);
    }

    [Theory]
    [InlineData(PriorityClass.Critical)]
    [InlineData(PriorityClass.Standard)]
    public async Task AcquireAsync_QueueFullAndAMoreImportantRequestArrives_ShedsTheNewestSheddableWaiter(PriorityClass priority)
    {
        var service = Service(maxWaiting: 3);
        var replica = Full(service.OnPrem(), "http://10.0.0.1:8000");
        var (batch, reports) = (NewTenant("batch", PriorityClass.Sheddable), NewTenant("reports", PriorityClass.Sheddable));
        var oldest = service.Queue.AcquireAsync(batch, CancellationToken.None).AsTask();
        var other = service.Queue.AcquireAsync(reports, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(2));
        var newest = service.Queue.AcquireAsync(batch, CancellationToken.None).AsTask();

        var important = service.Queue.AcquireAsync(NewTenant("chat", priority), CancellationToken.None).AsTask();

        Assert.Equal(AdmissionOutcome.Failed(AdmissionFailure.Shed, TimeSpan.Zero), await Within(newest));
        Assert.False(oldest.IsCompleted);
        Assert.False(other.IsCompleted);
        Assert.Equal(3, service.Queue.Count);
        Assert.Equal((1, 2), (service.WaitingIn(priority), service.WaitingIn(PriorityClass.Sheddable)));
        replica.Release();
        Assert.Same(replica, (await Within(important)).Replica);
    }

    [Fact]
    public async Task AcquireAsync_QueueFullAndASheddableRequestArrives_IsTurnedAwayAsQueueFull()
    {
        var service = Service(maxWaiting: 2);
        Full(service.OnPrem(), "http://10.0.0.1:8000");
        var batch = NewTenant("batch", PriorityClass.Sheddable);
        var first = service.Queue.AcquireAsync(batch, CancellationToken.None).AsTask();
        var second = service.Queue.AcquireAsync(batch, CancellationToken.None).AsTask();

        var outcome = await service.Queue.AcquireAsync(NewTenant("reports", PriorityClass.Sheddable), CancellationToken.None);

        Assert.Equal(AdmissionOutcome.Failed(AdmissionFailure.QueueFull, TimeSpan.Zero), outcome);
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);
        Assert.Equal(2, service.Queue.Count);
    }

    [Fact]
    public async Task AcquireAsync_QueueFullWithoutSheddableWaiters_TurnsEvenACriticalRequestAwayAsQueueFull()
    {
        var service = Service(maxWaiting: 1);
        Full(service.OnPrem(), "http://10.0.0.1:8000");
        var standard = service.Queue.AcquireAsync(NewTenant("app"), CancellationToken.None).AsTask();

        var outcome = await service.Queue.AcquireAsync(NewTenant("chat", PriorityClass.Critical), CancellationToken.None);

        Assert.Equal(AdmissionFailure.QueueFull, outcome.Failure);
        Assert.False(standard.IsCompleted);
    }

    [Fact]
    public async Task AcquireAsync_SheddableMayFillHalfAndMoreOfItWaits_CriticalIsPlacedAtOnceOnTheSlotKeptFree()
    {
        var options = Options(TestTopology.Service(Pool("on-prem", 0, 2)));
        options.Services[0].Queue = new QueueOptions { MaxWaiting = 1000, MaxWaitSeconds = 30 };
        options.Classes[PriorityClass.Sheddable] = new PriorityClassOptions { MaxSlotShare = 0.5 };
        var service = Build(options, _time).Services[0];
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var batch = NewTenant("batch", PriorityClass.Sheddable);
        Assert.Same(replica, (await service.Queue.AcquireAsync(batch, CancellationToken.None)).Replica);
        var waiting = service.Queue.AcquireAsync(batch, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);

        Assert.Same(replica, (await Within(service.Queue.AcquireAsync(NewTenant("chat", PriorityClass.Critical), CancellationToken.None).AsTask())).Replica);
        Assert.Equal(2, replica.InFlight);

        // Chat's answer ends: one batch request is still in flight, so the freed slot stays free.
        replica.Release();
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, service.WaitingIn(PriorityClass.Sheddable));

        // Batch's answer ends: the replica is empty, and the waiter takes it.
        replica.Release();
        Assert.Same(replica, (await Within(waiting)).Replica);
    }
}

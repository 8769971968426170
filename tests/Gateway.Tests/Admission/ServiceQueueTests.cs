using Gateway.Admission;
using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Admission;

public sealed class ServiceQueueTests
{
    private readonly FakeTimeProvider _time = new();

    private InferenceService Service(int maxWaiting = 10, double maxWaitSeconds = 30, int onPremCapacity = 1) =>
        TwoTiers(onPremCapacity, cloudCapacity: 1, _time, new QueueOptions { MaxWaiting = maxWaiting, MaxWaitSeconds = maxWaitSeconds });

    /// <summary>Awaits a waiter that should already have its outcome; a lost wake-up then fails instead of hanging.</summary>
    private static Task<AdmissionOutcome> Within(Task<AdmissionOutcome> waiter) => waiter.WaitAsync(TimeSpan.FromSeconds(10));

    [Fact]
    public async Task AcquireAsync_SlotFree_PlacesAtOnceWithoutQueueing()
    {
        var service = Service();
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000");

        var pending = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None);

        Assert.True(pending.IsCompletedSuccessfully);
        var outcome = await pending;
        Assert.Equal(AdmissionOutcome.Placed(replica, TimeSpan.Zero), outcome);
        Assert.Equal(1, replica.InFlight);
        Assert.Equal(0, service.Queue.Count);
    }

    [Fact]
    public async Task AcquireAsync_AllFull_WaitsUntilASlotIsReleased()
    {
        var service = Service();
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var holder = await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None);

        var waiting = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, service.Queue.Count);
        holder.Replica!.Release();
        Assert.Equal(AdmissionOutcome.Placed(replica, TimeSpan.FromSeconds(2)), await Within(waiting));
        Assert.Equal(0, service.Queue.Count);
        Assert.Equal(1, replica.InFlight);
        Assert.Equal(2L, replica.Served);
    }

    [Fact]
    public async Task Release_SeveralWaiters_ServesThemInArrivalOrder()
    {
        var service = Service();
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000");
        Assert.True(replica.TryReserve());
        var first = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        var second = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        var third = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        Assert.Equal(3, service.Queue.Count);

        replica.Release();
        Assert.Same(replica, (await Within(first)).Replica);
        Assert.False(second.IsCompleted);
        Assert.False(third.IsCompleted);
        Assert.Equal(2, service.Queue.Count);

        replica.Release();
        Assert.Same(replica, (await Within(second)).Replica);
        Assert.False(third.IsCompleted);
        Assert.Equal(1, service.Queue.Count);

        replica.Release();
        Assert.Same(replica, (await third).Replica);
        Assert.Equal(0, service.Queue.Count);
        Assert.Equal(1, replica.InFlight);
    }

    [Fact]
    public async Task AcquireAsync_SlotFreeWhileOthersWait_JoinsTheTailInsteadOfJumpingAhead()
    {
        var service = Service();
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000");
        Assert.True(replica.TryReserve());
        var first = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();

        // The slot comes back without waking the queue, so the next arrival sees it free.
        replica.ReleaseQuietly();
        var late = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();

        Assert.Same(replica, (await Within(first)).Replica);
        Assert.False(late.IsCompleted);
        Assert.Equal(1, service.Queue.Count);
        replica.Release();
        Assert.Same(replica, (await Within(late)).Replica);
    }

    [Fact]
    public async Task AcquireAsync_QueueHoldsMaxWaiting_TurnsTheNextAwayAsQueueFull()
    {
        var service = Service(maxWaiting: 2);
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000");
        Assert.True(replica.TryReserve());
        var first = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        var second = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();

        var third = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None);

        Assert.True(third.IsCompletedSuccessfully);
        Assert.Equal(AdmissionOutcome.Failed(AdmissionFailure.QueueFull, TimeSpan.Zero), await third);
        Assert.Equal(2, service.Queue.Count);
        replica.Release();
        Assert.Same(replica, (await Within(first)).Replica);
        Assert.False(second.IsCompleted);
    }

    [Fact]
    public async Task AcquireAsync_MaxWaitingZeroAndAllFull_TurnsAwayAtOnce()
    {
        var service = Service(maxWaiting: 0);
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000");
        Assert.True(replica.TryReserve());

        var outcome = await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None);

        Assert.Equal(AdmissionOutcome.Failed(AdmissionFailure.QueueFull, TimeSpan.Zero), outcome);
        Assert.Equal(0, service.Queue.Count);
    }

    [Fact]
    public async Task AcquireAsync_WaitsMaxWaitSeconds_TimesOutAndLeavesTheQueue()
    {
        var service = Service(maxWaitSeconds: 5);
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000");
        Assert.True(replica.TryReserve());
        var waiting = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();

        _time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromTicks(1));
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, service.Queue.Count);

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(0, service.Queue.Count);
        Assert.Equal(AdmissionOutcome.Failed(AdmissionFailure.QueueTimeout, TimeSpan.FromSeconds(5)), await Within(waiting));

        // The slot freed afterwards is not handed to the request that left.
        replica.Release();
        Assert.Equal(0, replica.InFlight);
        Assert.Equal(1L, replica.Served);
    }

    [Fact]
    public async Task AcquireAsync_HeadTimesOut_NextWaiterGetsTheSlot()
    {
        var service = Service(maxWaitSeconds: 5);
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000");
        Assert.True(replica.TryReserve());
        var first = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(3));
        var second = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(AdmissionFailure.QueueTimeout, (await Within(first)).Failure);
        replica.Release();

        Assert.Equal(AdmissionOutcome.Placed(replica, TimeSpan.FromSeconds(2)), await Within(second));
    }

    [Fact]
    public async Task AcquireAsync_ClientCancels_ReturnsClientGoneAndConsumesNoSlot()
    {
        var service = Service();
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000");
        Assert.True(replica.TryReserve());
        using var aborted = new CancellationTokenSource();
        var waiting = service.Queue.AcquireAsync(Tenant.Anonymous, aborted.Token).AsTask();
        _time.Advance(TimeSpan.FromSeconds(1));

        await aborted.CancelAsync();

        Assert.Equal(0, service.Queue.Count);
        Assert.Equal(AdmissionOutcome.Failed(AdmissionFailure.ClientGone, TimeSpan.FromSeconds(1)), await Within(waiting));
        replica.Release();
        Assert.Equal(0, replica.InFlight);
        Assert.Equal(1L, replica.Served);
    }

    [Fact]
    public async Task AcquireAsync_ClientAlreadyGoneWhileAllFull_ReturnsClientGone()
    {
        var service = Service();
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000");
        Assert.True(replica.TryReserve());

        var outcome = await service.Queue.AcquireAsync(Tenant.Anonymous, new CancellationToken(canceled: true));

        Assert.Equal(AdmissionOutcome.Failed(AdmissionFailure.ClientGone, TimeSpan.Zero), outcome);
        Assert.Equal(0, service.Queue.Count);
    }

    [Fact]
    public async Task SetState_ReplicaBecomesReady_ServesTheWaiter()
    {
        var service = Service();
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000", ReplicaState.Provisioning);
        var waiting = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        Assert.Equal(1, service.Queue.Count);

        replica.SetState(ReplicaState.Ready);

        Assert.Same(replica, (await Within(waiting)).Replica);
        Assert.Equal(0, service.Queue.Count);
        Assert.Equal(1, replica.InFlight);
    }

    [Fact]
    public async Task AddReplica_ReadyReplicaAdded_ServesTheWaiter()
    {
        var service = Service();
        var waiting = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        Assert.Equal(1, service.Queue.Count);

        var added = Add(service.Cloud(), "http://10.0.1.1:8000");

        Assert.Same(added, (await Within(waiting)).Replica);
        Assert.Equal(0, service.Queue.Count);
    }

    [Fact]
    public async Task AddReplica_ProvisioningReplicaAdded_LeavesTheWaiterQueued()
    {
        var service = Service();
        var waiting = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();

        var added = Add(service.Cloud(), "http://10.0.1.1:8000", ReplicaState.Provisioning);

        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, service.Queue.Count);
        added.SetState(ReplicaState.Ready);
        Assert.Same(added, (await Within(waiting)).Replica);
    }

    [Fact]
    public async Task Dispatch_OnPremAndCloudSlotsBothFree_HeadGetsOnPremAndNextGetsCloud()
    {
        var service = Service();
        var onPrem = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");
        Assert.Same(onPrem, (await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None)).Replica);
        Assert.Same(cloud, (await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None)).Replica);
        var head = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        var next = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();

        // Both slots come back before the queue looks: the cloud one first.
        cloud.ReleaseQuietly();
        onPrem.ReleaseQuietly();
        service.Queue.Dispatch();

        Assert.Same(onPrem, (await Within(head)).Replica);
        Assert.Same(cloud, (await Within(next)).Replica);
        Assert.Equal(0, service.Queue.Count);
    }

    [Fact]
    public async Task Release_OnlyACloudSlotFrees_HeadTakesItRatherThanWaitForOnPrem()
    {
        var service = Service();
        var onPrem = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");
        Assert.True(onPrem.TryReserve());
        Assert.True(cloud.TryReserve());
        var head = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();

        cloud.Release();

        Assert.Same(cloud, (await Within(head)).Replica);
        Assert.Equal(1, onPrem.InFlight);
    }

    [Fact]
    public async Task AcquireAsync_ManyConcurrentRequests_AllServedWithinCapacity()
    {
        var service = Service(maxWaiting: 10_000, onPremCapacity: 2);
        var replicas = new[] { Add(service.OnPrem(), "http://10.0.0.1:8000"), Add(service.Cloud(), "http://10.0.1.1:8000") };
        const int Requests = 5_000;

        var requests = new Task<AdmissionFailure>[Requests];
        for (var i = 0; i < Requests; i++)
        {
            requests[i] = Task.Run(async () =>
            {
                var outcome = await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None);
                await Task.Yield();
                outcome.Replica?.Release();
                return outcome.Failure;
            });
        }

        // A lost wake-up would leave a request waiting forever; the fake clock never times it out.
        var failures = await Task.WhenAll(requests).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(failures, f => Assert.Equal(AdmissionFailure.None, f));
        Assert.Equal(0, service.Queue.Count);
        Assert.Equal([0, 0], Array.ConvertAll(replicas, r => r.InFlight));
        Assert.Equal(Requests, replicas.Sum(r => r.Served));
        Assert.All(replicas, r => Assert.InRange(r.PeakInFlight, 0, r.Capacity));
    }

    [Fact]
    public async Task Close_AnswersEveryWaiterAndLaterArrivalsWithDraining()
    {
        var service = Service();
        var replica = Add(service.OnPrem(), "http://10.0.0.1:8000");
        Assert.True(replica.TryReserve());
        var first = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        var second = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();

        service.Queue.Close();

        Assert.Equal(AdmissionFailure.Draining, (await Within(first)).Failure);
        Assert.Equal(AdmissionFailure.Draining, (await Within(second)).Failure);
        Assert.Equal(0, service.Queue.Count);
        replica.Release();
        Assert.Equal(0, replica.InFlight);
        Assert.Equal(AdmissionFailure.Draining, (await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None)).Failure);
        Assert.Equal(0, replica.InFlight);
    }

    [Fact]
    public async Task RequeueAsync_AnotherReplicaFree_PlacesThereAtOnce()
    {
        var service = Service();
        var failed = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var other = Add(service.Cloud(), "http://10.0.1.1:8000");

        var outcome = await service.Queue.RequeueAsync(Tenant.Anonymous, _time.GetTimestamp(), failed, CancellationToken.None);

        Assert.Same(other, outcome.Replica);
        Assert.Equal(0, failed.InFlight);
    }

    [Fact]
    public async Task RequeueAsync_NoOtherReplicaFree_WaitsAtTheHeadForTheNextSlot_NeverTheFailedReplica()
    {
        var service = Service();
        var failed = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");
        Assert.True(cloud.TryReserve());
        var queuedBefore = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        Assert.Same(failed, (await Within(queuedBefore)).Replica);
        var behind = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();

        var again = service.Queue.RequeueAsync(Tenant.Anonymous, _time.GetTimestamp(), failed, CancellationToken.None).AsTask();
        Assert.Equal(2, service.Queue.Count);

        // The failed replica's slot frees first: it goes to the request behind, not to the one it failed.
        failed.Release();
        Assert.Same(failed, (await Within(behind)).Replica);
        Assert.False(again.IsCompleted);

        // The next slot elsewhere is the requeued request's, ahead of anyone who arrives later.
        var later = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        cloud.Release();
        Assert.Same(cloud, (await Within(again)).Replica);
        Assert.False(later.IsCompleted);
        Assert.Equal(1, service.Queue.Count);
    }

    [Fact]
    public async Task RequeueAsync_KeepsTheDeadlineItHadOnArrival()
    {
        var service = Service(maxWaitSeconds: 30);
        var failed = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var admittedAt = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromSeconds(25));

        var again = service.Queue.RequeueAsync(Tenant.Anonymous, admittedAt, failed, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(again.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));

        var outcome = await Within(again);
        Assert.Equal(AdmissionOutcome.Failed(AdmissionFailure.QueueTimeout, TimeSpan.FromSeconds(30)), outcome);
        Assert.Equal(0, service.Queue.Count);
    }

    [Fact]
    public async Task RequeueAsync_PastItsDeadline_TimesOutAtOnce()
    {
        var service = Service(maxWaitSeconds: 30);
        var failed = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var admittedAt = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromSeconds(31));

        var outcome = await service.Queue.RequeueAsync(Tenant.Anonymous, admittedAt, failed, CancellationToken.None);

        Assert.Equal(AdmissionFailure.QueueTimeout, outcome.Failure);
        Assert.Equal(0, service.Queue.Count);
    }

    [Fact]
    public async Task RequeueAsync_QueueFull_StillJoinsItsHead()
    {
        var service = Service(maxWaiting: 1);
        var failed = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var waiting = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000", ReplicaState.Provisioning);
        Assert.Same(failed, (await Within(waiting)).Replica);
        var full = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        Assert.Equal(AdmissionFailure.QueueFull, (await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None)).Failure);

        var again = service.Queue.RequeueAsync(Tenant.Anonymous, _time.GetTimestamp(), failed, CancellationToken.None).AsTask();

        Assert.Equal(2, service.Queue.Count);
        cloud.SetState(ReplicaState.Ready);
        Assert.Same(cloud, (await Within(again)).Replica);
        Assert.False(full.IsCompleted);
    }

    [Fact]
    public async Task RequeueAsync_TheFailedReplicaRecovers_TakesItAgain()
    {
        var service = Service();
        var failed = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var again = service.Queue.RequeueAsync(Tenant.Anonymous, _time.GetTimestamp(), failed, CancellationToken.None).AsTask();
        Assert.False(again.IsCompleted);

        // Taken out, then back (a replica restarted at its address): it is no longer the replica that failed.
        failed.SetHealthy(false);
        Assert.False(again.IsCompleted);
        failed.SetHealthy(true);

        Assert.Same(failed, (await Within(again)).Replica);
        Assert.Equal(1, failed.Recoveries);
    }
}

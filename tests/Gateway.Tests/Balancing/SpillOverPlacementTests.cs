using Gateway.Configuration;
using Gateway.Model;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Balancing;

public sealed class SpillOverPlacementTests
{
    [Fact]
    public void TryReserve_OnPremHasRoom_FillsOnPremBeforeSpillingToCloud()
    {
        var service = TwoTiers(onPremCapacity: 2, cloudCapacity: 2);
        var onPrem = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");

        var placed = new List<Replica?>();
        for (var i = 0; i < 5; i++)
        {
            placed.Add(service.Placement.TryReserve(service, Tenant.Anonymous));
        }

        Assert.Equal([onPrem, onPrem, cloud, cloud, null], placed);
        Assert.Equal(2, onPrem.InFlight);
        Assert.Equal(2, cloud.InFlight);
    }

    [Fact]
    public void TryReserve_OneOnPremReplicaFullAnotherFree_StaysOnPrem()
    {
        var service = TwoTiers(onPremCapacity: 1, cloudCapacity: 1);
        var first = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var second = Add(service.OnPrem(), "http://10.0.0.2:8000");
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");
        Assert.True(first.TryReserve());

        Assert.Same(second, service.Placement.TryReserve(service, Tenant.Anonymous));
        Assert.Equal(0, cloud.InFlight);
    }

    [Fact]
    public void TryReserve_OnPremSlotFreedAfterSpill_GoesBackToOnPrem()
    {
        var service = TwoTiers(onPremCapacity: 1, cloudCapacity: 4);
        var onPrem = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");
        Assert.Same(onPrem, service.Placement.TryReserve(service, Tenant.Anonymous));
        Assert.Same(cloud, service.Placement.TryReserve(service, Tenant.Anonymous));

        onPrem.Release();

        Assert.Same(onPrem, service.Placement.TryReserve(service, Tenant.Anonymous));
        Assert.Equal(1, cloud.InFlight);
    }

    [Fact]
    public void TryReserve_InsideAPool_PicksTheLeastLoadedReplica()
    {
        var service = OnePool(capacity: 4);
        var pool = service.OnPrem();
        var replicas = new[] { Add(pool, "http://10.0.0.1:8000"), Add(pool, "http://10.0.0.2:8000"), Add(pool, "http://10.0.0.3:8000") };
        Reserve(replicas[0], 2);
        Reserve(replicas[1], 1);
        Reserve(replicas[2], 3);

        Assert.Same(replicas[1], service.Placement.TryReserve(service, Tenant.Anonymous));
        Assert.Equal([2, 2, 3], [replicas[0].InFlight, replicas[1].InFlight, replicas[2].InFlight]);
    }

    [Fact]
    public void TryReserve_EqualReplicas_FillsThemEvenly()
    {
        var service = OnePool(capacity: 2);
        var first = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var second = Add(service.OnPrem(), "http://10.0.0.2:8000");

        service.Placement.TryReserve(service, Tenant.Anonymous);
        service.Placement.TryReserve(service, Tenant.Anonymous);
        Assert.Equal([1, 1], [first.InFlight, second.InFlight]);

        service.Placement.TryReserve(service, Tenant.Anonymous);
        service.Placement.TryReserve(service, Tenant.Anonymous);
        Assert.Equal([2, 2], [first.InFlight, second.InFlight]);
    }

    [Fact]
    public void TryReserve_TiedReplicas_ShareTheWorkAtRandom()
    {
        var service = OnePool(capacity: 1);
        var first = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var second = Add(service.OnPrem(), "http://10.0.0.2:8000");

        for (var i = 0; i < 200; i++)
        {
            service.Placement.TryReserve(service, Tenant.Anonymous)!.Release();
        }

        // Always picking the first (or the last) of a tie would leave one replica idle.
        Assert.Equal(200, first.Served + second.Served);
        Assert.InRange(first.Served, 60, 140);
    }

    [Fact]
    public void TryReserve_EveryReplicaFull_ReturnsNullAndReservesNothing()
    {
        var service = TwoTiers(onPremCapacity: 1, cloudCapacity: 1);
        var onPrem = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");
        Reserve(onPrem, 1);
        Reserve(cloud, 1);

        Assert.Null(service.Placement.TryReserve(service, Tenant.Anonymous));
        Assert.Equal([1, 1], [onPrem.InFlight, cloud.InFlight]);
        Assert.Equal([1L, 1L], [onPrem.Served, cloud.Served]);
    }

    [Fact]
    public void TryReserve_NoReplicas_ReturnsNull()
    {
        var service = TwoTiers(onPremCapacity: 1, cloudCapacity: 1);

        Assert.Null(service.Placement.TryReserve(service, Tenant.Anonymous));
    }

    [Theory]
    [InlineData(ReplicaState.Provisioning)]
    [InlineData(ReplicaState.Draining)]
    [InlineData(ReplicaState.Stopped)]
    public void TryReserve_OnPremNotReady_SkipsItForCloud(ReplicaState state)
    {
        var service = TwoTiers(onPremCapacity: 4, cloudCapacity: 4);
        var onPrem = Add(service.OnPrem(), "http://10.0.0.1:8000", state);
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");

        Assert.Same(cloud, service.Placement.TryReserve(service, Tenant.Anonymous));
        Assert.Equal(0, onPrem.InFlight);
    }

    [Fact]
    public void TryReserve_ReplicaStartsDraining_GetsNoMoreRequests()
    {
        var service = OnePool(capacity: 4);
        var draining = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var other = Add(service.OnPrem(), "http://10.0.0.2:8000");
        Reserve(other, 3);

        draining.SetState(ReplicaState.Draining);

        Assert.Same(other, service.Placement.TryReserve(service, Tenant.Anonymous));
        Assert.Null(service.Placement.TryReserve(service, Tenant.Anonymous));
        Assert.Equal(0, draining.InFlight);
    }

    [Fact]
    public void TryReserve_AvoidTheLeastLoaded_PicksAnotherInThePool()
    {
        var service = TwoTiers(onPremCapacity: 4, cloudCapacity: 4);
        var failed = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var other = Add(service.OnPrem(), "http://10.0.0.2:8000");
        Reserve(other, 2);

        Assert.Same(other, service.Placement.TryReserve(service, Tenant.Anonymous, avoid: failed));
        Assert.Equal(0, failed.InFlight);
    }

    [Fact]
    public void TryReserve_AvoidTheOnlyOnPremReplica_SpillsToCloud()
    {
        var service = TwoTiers(onPremCapacity: 4, cloudCapacity: 4);
        var failed = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");

        Assert.Same(cloud, service.Placement.TryReserve(service, Tenant.Anonymous, avoid: failed));
        Assert.Equal(0, failed.InFlight);
    }

    [Fact]
    public void TryReserve_OnPremOnlyTenantAndOnPremFull_GetsNothingThoughTheCloudHasRoom()
    {
        var service = TwoTiers(onPremCapacity: 1, cloudCapacity: 4);
        var onPrem = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");
        var pinned = NewTenant("records", residency: Residency.OnPremOnly);

        Assert.Same(onPrem, service.Placement.TryReserve(service, pinned));
        Assert.Null(service.Placement.TryReserve(service, pinned));
        Assert.Equal(0, cloud.InFlight);
        Assert.Same(cloud, service.Placement.TryReserve(service, NewTenant("chat")));
    }

    [Fact]
    public void TryReserve_OnPremOnlyTenantAvoidingTheOnlyOnPremReplica_GetsNothing()
    {
        var service = TwoTiers(onPremCapacity: 4, cloudCapacity: 4);
        var failed = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");

        Assert.Null(service.Placement.TryReserve(service, NewTenant("records", residency: Residency.OnPremOnly), avoid: failed));
        Assert.Equal((0, 0), (failed.InFlight, cloud.InFlight));
    }

    [Fact]
    public void TryReserve_PoolLocatedOnPremThoughNotFirst_TakesOnPremOnlyTenants()
    {
        // Location, not priority, decides: a second on-prem pool (older GPUs, say) serves a pinned tenant too.
        var spare = Pool("spare", 1, 1, "http://10.0.2.1:8000");
        spare.Location = PoolLocation.OnPrem;
        var service = Build(Options(Service(Pool("on-prem", 0, 1, "http://10.0.0.1:8000"), spare, Pool("cloud", 2, 1, "http://10.0.1.1:8000")))).Services[0];
        Assert.True(Add(service.OnPrem(), "http://10.0.0.1:8000").TryReserve());
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");
        var second = Add(service.FindPool("spare")!, "http://10.0.2.1:8000");

        Assert.Same(second, service.Placement.TryReserve(service, NewTenant("records", residency: Residency.OnPremOnly)));
        Assert.Equal(0, cloud.InFlight);
    }

    private static void Reserve(Replica replica, int slots)
    {
        for (var i = 0; i < slots; i++)
        {
            Assert.True(replica.TryReserve());
        }
    }

    [Fact]
    public void TryReserve_SheddableMayFillHalfTheSlots_TakesOnlyEmptyReplicasAndLeavesTheirOtherSlotToCritical()
    {
        var options = Options(Service(Pool("on-prem", 0, 2), Pool("cloud", 1, 2)));
        options.Classes[PriorityClass.Sheddable] = new PriorityClassOptions { MaxSlotShare = 0.5 };
        var service = Build(options).Services[0];
        var onPrem = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");
        var (batch, chat) = (NewTenant("batch", PriorityClass.Sheddable), NewTenant("chat", PriorityClass.Critical));

        Assert.Equal([onPrem, cloud, null], [service.Placement.TryReserve(service, batch), service.Placement.TryReserve(service, batch), service.Placement.TryReserve(service, batch)]);
        Assert.Equal([onPrem, cloud, null], [service.Placement.TryReserve(service, chat), service.Placement.TryReserve(service, chat), service.Placement.TryReserve(service, chat)]);
        Assert.Equal((2, 2), (onPrem.InFlight, cloud.InFlight));
    }

    [Fact]
    public void TryReserve_SlotShareBelowOneSlot_StillTakesAnEmptyReplica()
    {
        var options = Options(Service(Pool("on-prem", 0, 3)));
        options.Classes[PriorityClass.Sheddable] = new PriorityClassOptions { MaxSlotShare = 0.1 };
        var service = Build(options).Services[0];
        var onPrem = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var batch = NewTenant("batch", PriorityClass.Sheddable);

        Assert.Same(onPrem, service.Placement.TryReserve(service, batch));
        Assert.Null(service.Placement.TryReserve(service, batch));
    }
}

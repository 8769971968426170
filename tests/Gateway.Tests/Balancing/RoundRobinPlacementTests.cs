using Gateway.Configuration;
using Gateway.Model;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Balancing;

public sealed class RoundRobinPlacementTests
{
    private static InferenceService RoundRobinTwoTiers(int capacity)
    {
        var options = Service(Pool("on-prem", 0, capacity, "http://10.0.0.1:8000"), Pool("cloud", 1, capacity, "http://10.0.1.1:8000"));
        options.Balancing = BalancingMode.RoundRobin;
        return Build(Options(options)).Services[0];
    }

    [Fact]
    public void Name_IsTheConfigurationName()
    {
        Assert.Equal("RoundRobin", RoundRobinTwoTiers(1).Placement.Name);
    }

    [Fact]
    public void TryReserve_ReplicasInTwoPools_CyclesOverAllOfThemInTurn()
    {
        var service = RoundRobinTwoTiers(capacity: 10);
        var replicas = new[]
        {
            Add(service.OnPrem(), "http://10.0.0.1:8000"),
            Add(service.OnPrem(), "http://10.0.0.2:8000"),
            Add(service.Cloud(), "http://10.0.1.1:8000"),
        };

        var order = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            order.Add(Array.IndexOf(replicas, service.Placement.TryReserve(service, Tenant.Anonymous)));
        }

        // Each next pick is the next replica (on-prem and cloud alike), wrapping around.
        for (var i = 1; i < order.Count; i++)
        {
            Assert.Equal((order[i - 1] + 1) % 3, order[i]);
        }

        Assert.Equal([2, 2, 2], [replicas[0].InFlight, replicas[1].InFlight, replicas[2].InFlight]);
    }

    [Fact]
    public void TryReserve_OnPremHasRoom_StillSendsToCloud()
    {
        // The baseline ignores tiers: that is what spill-over is compared with.
        var service = RoundRobinTwoTiers(capacity: 10);
        Add(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");

        service.Placement.TryReserve(service, Tenant.Anonymous);
        service.Placement.TryReserve(service, Tenant.Anonymous);

        Assert.Equal(1, cloud.InFlight);
    }

    [Fact]
    public void TryReserve_ReplicaFull_SkipsToTheNextAndNeverExceedsCapacity()
    {
        var service = RoundRobinTwoTiers(capacity: 1);
        var replicas = new[]
        {
            Add(service.OnPrem(), "http://10.0.0.1:8000"),
            Add(service.OnPrem(), "http://10.0.0.2:8000"),
            Add(service.Cloud(), "http://10.0.1.1:8000"),
        };

        var placed = new HashSet<Replica>();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(placed.Add(service.Placement.TryReserve(service, Tenant.Anonymous)!));
        }

        Assert.Null(service.Placement.TryReserve(service, Tenant.Anonymous));
        Assert.Equal([1, 1, 1], [replicas[0].InFlight, replicas[1].InFlight, replicas[2].InFlight]);
    }

    [Fact]
    public void TryReserve_NotReadyReplica_IsSkipped()
    {
        var service = RoundRobinTwoTiers(capacity: 10);
        var provisioning = Add(service.OnPrem(), "http://10.0.0.1:8000", ReplicaState.Provisioning);
        var ready = Add(service.Cloud(), "http://10.0.1.1:8000");

        for (var i = 0; i < 4; i++)
        {
            Assert.Same(ready, service.Placement.TryReserve(service, Tenant.Anonymous));
        }

        Assert.Equal(0L, provisioning.Served);
    }

    [Fact]
    public void TryReserve_OnPremOnlyTenant_NeverGetsTheCloudReplicaWhoseTurnItIs()
    {
        var service = RoundRobinTwoTiers(capacity: 10);
        var onPrem = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");
        var pinned = NewTenant("records", residency: Residency.OnPremOnly);

        for (var i = 0; i < 4; i++)
        {
            Assert.Same(onPrem, service.Placement.TryReserve(service, pinned));
        }

        Assert.Equal((4, 0), (onPrem.InFlight, cloud.InFlight));
    }

    [Fact]
    public void TryReserve_OnPremOnlyTenantAndOnPremFull_GetsNothing()
    {
        var service = RoundRobinTwoTiers(capacity: 1);
        Assert.True(Add(service.OnPrem(), "http://10.0.0.1:8000").TryReserve());
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");

        Assert.Null(service.Placement.TryReserve(service, NewTenant("records", residency: Residency.OnPremOnly)));
        Assert.Equal(0, cloud.InFlight);
    }

    [Fact]
    public void TryReserve_Avoid_SkipsThatReplica()
    {
        var service = RoundRobinTwoTiers(capacity: 10);
        var failed = Add(service.OnPrem(), "http://10.0.0.1:8000");
        var other = Add(service.Cloud(), "http://10.0.1.1:8000");

        for (var i = 0; i < 4; i++)
        {
            Assert.Same(other, service.Placement.TryReserve(service, Tenant.Anonymous, avoid: failed));
        }

        Assert.Equal(0L, failed.Served);
    }

    [Fact]
    public void TryReserve_NoReplicas_ReturnsNull()
    {
        var service = RoundRobinTwoTiers(capacity: 1);

        Assert.Null(service.Placement.TryReserve(service, Tenant.Anonymous));
    }
}

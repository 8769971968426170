using Gateway.Model;
using Gateway.Providers;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Providers;

public sealed class StaticReplicaProviderTests
{
    [Fact]
    public async Task StartAsync_ConfiguredAddresses_AddsReadyReplicasNamedAfterThePool()
    {
        var service = OnePool(capacity: 3);
        var pool = service.OnPrem();
        var source = new StaticReplicaProvider(pool, ["http://10.0.0.1:8000", "http://10.0.0.2:8001/"]);

        await source.StartAsync(CancellationToken.None);

        Assert.Equal(["on-prem-1", "on-prem-2"], pool.Replicas.Select(r => r.Id));
        Assert.Equal(["http://10.0.0.1:8000", "http://10.0.0.2:8001"], pool.Replicas.Select(r => r.DestinationPrefix));
        Assert.All(pool.Replicas, r => Assert.Equal(ReplicaState.Ready, r.State));
        Assert.All(pool.Replicas, r => Assert.Equal(3, r.Capacity));
        Assert.Equal(2, pool.ReadyCount);
    }

    [Fact]
    public async Task StartAsync_RequestWaitingForAnEmptyPool_IsServedByTheNewReplica()
    {
        var service = OnePool(capacity: 1);
        var waiting = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();

        await new StaticReplicaProvider(service.OnPrem(), ["http://10.0.0.1:8000"]).StartAsync(CancellationToken.None);

        var outcome = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Same(service.OnPrem().Replicas[0], outcome.Replica);
    }

    [Fact]
    public void RemoveReplica_ReplicaWithRequestsInFlight_StopsItAndTakesItOutOfPlacement()
    {
        var service = OnePool(capacity: 2);
        var pool = service.OnPrem();
        var leaving = Add(pool, "http://10.0.0.1:8000");
        var staying = Add(pool, "http://10.0.0.2:8000");
        Assert.True(leaving.TryReserve());

        pool.RemoveReplica(leaving);

        Assert.Equal(ReplicaState.Stopped, leaving.State);
        Assert.Equal([staying], pool.Replicas);
        Assert.False(leaving.TryReserve());
        Assert.Equal(1, leaving.InFlight);
    }
}

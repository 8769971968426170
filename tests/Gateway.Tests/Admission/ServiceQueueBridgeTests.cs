using Gateway.Admission;
using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Admission;

/// <summary>
/// Placement with a provider tier: on-prem, then ready cloud GPUs, then the bridge (only for a request kept waiting
/// <c>Bridge:MaxQueueWaitMs</c> while cloud GPUs boot or are at their maximum, and while the budget lasts), then the
/// queue; an overflow provider as a plain last tier.
/// </summary>
public sealed class ServiceQueueBridgeTests
{
    private readonly FakeTimeProvider _time = new();

    /// <summary>On-prem 1 slot, cloud elastic 0..2 of 1 slot, and a provider of <paramref name="role"/> with 2 slots.</summary>
    private InferenceService Service(PoolRole role = PoolRole.Bridge, int maxQueueWaitMs = 200, BudgetOptions? budget = null)
    {
        var onPrem = Pool("on-prem", 0, 1, "http://10.0.0.1:8000");
        var cloud = new PoolOptions
        {
            Name = "cloud",
            Priority = 1,
            CapacityPerReplica = 1,
            Process = new ProcessSourceOptions { Command = "vllm", Arguments = ["serve", "--port", "{port}"] },
            Scaling = new ScalingOptions { MinReplicas = 0, MaxReplicas = 2 },
            Cost = new CostOptions { PerReplicaHour = 4 },
        };
        var provider = new PoolOptions
        {
            Name = "hosted",
            Priority = 2,
            Role = role,
            Bridge = new BridgeOptions { MaxQueueWaitMs = maxQueueWaitMs },
            Provider = new ProviderSourceOptions { BaseUrl = "https://api.example.com/v1", MaxConcurrency = 2 },
        };
        var options = Options(TestTopology.Service(onPrem, cloud, provider));
        options.Services[0].Budget = budget;
        Assert.Empty(GatewayOptionsValidator.Check(options));
        var service = Build(options, _time).Services[0];
        Add(service.OnPrem(), "http://10.0.0.1:8000");
        Add(service.FindPool("hosted")!, "https://api.example.com/v1");
        return service;
    }

    private static Pool Hosted(InferenceService service) => service.FindPool("hosted")!;

    private static Task<AdmissionOutcome> Within(Task<AdmissionOutcome> waiter) => waiter.WaitAsync(TimeSpan.FromSeconds(10));

    [Fact]
    public async Task CloudBooting_RequestKeptWaiting_GoesToTheBridgeOnceItHasWaitedMaxQueueWait()
    {
        var service = Service();
        Assert.NotNull((await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None)).Replica);
        service.Cloud().DesiredReplicas = 1;

        var waiting = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(199));
        Assert.False(waiting.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        var outcome = await Within(waiting);
        Assert.Same(Hosted(service).Replicas[0], outcome.Replica);
        Assert.Equal(TimeSpan.FromMilliseconds(200), outcome.Waited);
    }

    [Fact]
    public async Task CloudReplicaReadyWithRoom_TakesTheRequestAtOnce_TheBridgeNothing()
    {
        var service = Service();
        Assert.NotNull((await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None)).Replica);
        service.Cloud().DesiredReplicas = 1;
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");

        var outcome = await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None);

        Assert.Same(cloud, outcome.Replica);
        Assert.Equal(0, Hosted(service).Replicas[0].InFlight);
    }

    [Fact]
    public async Task GpusReadyAndNotAtTheirMaximum_BridgeTakesNothingNew_TheRequestWaitsForAGpu()
    {
        var service = Service();
        Assert.NotNull((await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None)).Replica);
        service.Cloud().DesiredReplicas = 1;
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");
        Assert.Same(cloud, (await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None)).Replica);

        // Both GPUs busy, every replica asked for is ready and the pool could still grow: nothing boots, so no bridge.
        var waiting = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(waiting.IsCompleted);

        cloud.Release();
        Assert.Same(cloud, (await Within(waiting)).Replica);
        Assert.Equal(0, Hosted(service).Replicas[0].Served);
    }

    [Fact]
    public async Task CloudAtItsMaximumAndFull_RequestKeptWaiting_GoesToTheBridge()
    {
        var service = Service();
        Assert.NotNull((await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None)).Replica);
        service.Cloud().DesiredReplicas = 2;
        Add(service.Cloud(), "http://10.0.1.1:8000");
        Add(service.Cloud(), "http://10.0.1.2:8000");
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal("cloud", (await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None)).Replica!.Pool.Name);
        }

        var waiting = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(200));

        Assert.Same(Hosted(service), (await Within(waiting)).Replica!.Pool);
    }

    [Fact]
    public async Task CloudHeldWhereTheBudgetAffords_ItsReplicasFull_RequestKeptWaitingGoesToTheBridge()
    {
        // 6 an hour at 4 a replica-hour affords one cloud replica of the two the pool may have: that one is its maximum.
        var service = Service(budget: new BudgetOptions { MaxPerHour = 6 });
        Assert.NotNull((await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None)).Replica);
        service.Cloud().DesiredReplicas = 1;
        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");
        Assert.Same(cloud, (await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None)).Replica);

        var waiting = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(200));

        Assert.Equal(1, service.MostReplicasOf(service.Cloud(), service.Cloud().Scaling!));
        Assert.Same(Hosted(service), (await Within(waiting)).Replica!.Pool);
    }

    [Fact]
    public async Task ScaleOutDecidedWhileARequestWaits_RequestWaitingLongerThanMaxQueueWait_GoesToTheBridgeAtOnce()
    {
        var service = Service();
        Assert.NotNull((await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None)).Replica);
        var waiting = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(waiting.IsCompleted);

        // The controller asks for a cloud replica: it boots, and the request kept waiting needs no timer to move.
        service.Cloud().DesiredReplicas = 1;

        Assert.Same(Hosted(service), (await Within(waiting)).Replica!.Pool);
    }

    [Fact]
    public async Task BudgetSpent_BridgeTakesNothing_TheRequestWaitsForAGpu()
    {
        var service = Service();
        Assert.NotNull((await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None)).Replica);
        service.Cloud().DesiredReplicas = 1;
        service.BudgetSpent = true;

        var waiting = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(waiting.IsCompleted);

        var cloud = Add(service.Cloud(), "http://10.0.1.1:8000");
        Assert.Same(cloud, (await Within(waiting)).Replica);
        Assert.Equal(0, Hosted(service).Replicas[0].Served);
    }

    [Fact]
    public async Task OnPremOnlyTenant_NeverReachesTheBridge()
    {
        var service = Service();
        var resident = NewTenant("resident", residency: Residency.OnPremOnly);
        var holder = await service.Queue.AcquireAsync(resident, CancellationToken.None);
        service.Cloud().DesiredReplicas = 1;

        var waiting = service.Queue.AcquireAsync(resident, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(waiting.IsCompleted);

        holder.Replica!.Release();
        Assert.Same(service.OnPrem(), (await Within(waiting)).Replica!.Pool);
        Assert.Equal(0, Hosted(service).Replicas[0].Served);
    }

    [Fact]
    public async Task OverflowProvider_TakesWhatNoGpuCan_AtOnce_AfterEveryGpuPool()
    {
        var service = Service(PoolRole.Overflow);
        Assert.Equal(["on-prem", "cloud", "hosted"], service.Pools.Select(p => p.Name));
        Assert.Same(service.OnPrem(), (await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None)).Replica!.Pool);

        var outcome = await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None);

        Assert.Same(Hosted(service), outcome.Replica!.Pool);
        Assert.Equal(TimeSpan.Zero, outcome.Waited);
    }

    [Fact]
    public async Task BridgeFull_RequestsWaitInTheQueue_AndTheNextFreedBridgeSlotGoesToTheOldest()
    {
        var service = Service();
        Assert.NotNull((await service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None)).Replica);
        service.Cloud().DesiredReplicas = 1;
        var waiters = new List<Task<AdmissionOutcome>>();
        for (var i = 0; i < 4; i++)
        {
            waiters.Add(service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask());
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        _time.Advance(TimeSpan.FromMilliseconds(200));
        var bridge = Hosted(service).Replicas[0];
        Assert.Same(bridge, (await Within(waiters[0])).Replica);
        Assert.Same(bridge, (await Within(waiters[1])).Replica);
        Assert.False(waiters[2].IsCompleted);
        Assert.False(waiters[3].IsCompleted);

        bridge.Release();
        Assert.Same(bridge, (await Within(waiters[2])).Replica);
        Assert.False(waiters[3].IsCompleted);
    }
}

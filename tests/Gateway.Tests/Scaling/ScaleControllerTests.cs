using Gateway.Configuration;
using Gateway.Model;
using Gateway.Scaling;
using Gateway.Telemetry;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Scaling;

/// <summary>
/// The controller's decisions over time, on a fake clock ticking every 250 ms as the hosted loop will. The service
/// has one on-prem replica of capacity 2 (fixed) and an elastic cloud pool of capacity 2 per replica; the target
/// utilisation is 0.8, so demand 6 wants 3 cloud replicas (6 / (2 + 3 × 2) = 0.75) and demand 2 wants 1.
/// </summary>
public sealed class ScaleControllerTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 5, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);

    private readonly FakeTimeProvider _time = new(Start);
    private InferenceService _service = null!;
    private GatewayMetrics _metrics = null!;
    private ScaleController _controller = null!;
    private readonly List<(TimeSpan At, ScaleAction Action)> _log = [];
    private int _addresses;

    private Pool Cloud => _service.Cloud();

    [Fact]
    public void Tick_Burst_ScalesOutOnceTheWindowHasPassed_ToTheWholeCount()
    {
        Build(min: 0, max: 4);

        var log = Run(TimeSpan.FromSeconds(20), t => t < S(5) ? 0 : 6);

        Assert.Equal([(S(7), new ScaleAction.Add(Cloud, 3))], log);
        Assert.Equal(3, Cloud.DesiredReplicas);
        Assert.Equal([new ScaleEvent(Start + S(7), TestTopology.ServiceName, "cloud", "out")], _metrics.RecentScaleEvents());
    }

    [Fact]
    public void Tick_SpikeShorterThanTheWindow_AsksForNothing()
    {
        Build(min: 0, max: 4);

        var log = Run(TimeSpan.FromSeconds(20), t => t >= S(5) && t < S(6.75) ? 6 : 0);

        Assert.Empty(log);
        Assert.Equal(0, Cloud.DesiredReplicas);
    }

    [Fact]
    public void Tick_SustainedPeak_AsksOnceWhileReplicasProvisionAndAfterTheyAreReady()
    {
        Build(min: 0, max: 4);

        var log = Run(TimeSpan.FromSeconds(60), _ => 6, at: t =>
        {
            if (t == S(12))
            {
                MakeReady(Cloud.Replicas);
            }
        });

        Assert.Equal([(S(2), new ScaleAction.Add(Cloud, 3))], log);
        Assert.Equal(3, Cloud.ReadyCount);
        Assert.Single(_metrics.RecentScaleEvents());
    }

    [Fact]
    public void Tick_ReplicasProvisioning_CountTowardTheTarget()
    {
        Build(min: 0, max: 4);
        TestTopology.Add(Cloud, NextAddress(), ReplicaState.Provisioning);

        // Demand 3 wants one cloud replica: the provisioning one is it. Demand 6 wants three: two more.
        var log = Run(TimeSpan.FromSeconds(20), t => t < S(10) ? 3 : 6);

        Assert.Equal([(S(12), new ScaleAction.Add(Cloud, 2))], log);
        Assert.Equal(3, Cloud.DesiredReplicas);
    }

    [Fact]
    public void Tick_DemandBeyondMax_IsCappedAtMax()
    {
        Build(min: 0, max: 2);

        var log = Run(TimeSpan.FromSeconds(60), _ => 100);

        Assert.Equal([(S(2), new ScaleAction.Add(Cloud, 2))], log);
        Assert.Equal(2, Cloud.DesiredReplicas);
        Assert.Equal(2, _controller.Wanted(Cloud));
        Assert.Equal(2, Cloud.Replicas.Count);
    }

    [Fact]
    public void Abandon_WhileAReplicaDrains_PutsItBackInRotation()
    {
        Build(min: 0, max: 2);
        AddReplicas(2, ReplicaState.Ready);
        var log = Run(TimeSpan.FromSeconds(120), demand: _ => 0, done: action =>
        {
            if (action is ScaleAction.Drain)
            {
                // Leadership lost right after the drain began: this gateway will never remove it.
                _controller.Abandon();
            }
        });

        var drained = Assert.Single(log).Action;
        Assert.Equal(new ScaleAction.Drain(Cloud.Replicas[1]), drained);
        Assert.Equal([ReplicaState.Ready, ReplicaState.Ready], Cloud.Replicas.Select(r => r.State));
        Assert.Equal(0, _controller.LeavingCount(Cloud));
    }

    [Fact]
    public void Failed_RemovalThatThrew_StaysLeavingAndIsAskedAgainAfterFiveSeconds()
    {
        Build(min: 0, max: 2);
        AddReplicas(1, ReplicaState.Ready);
        var removals = new List<TimeSpan>();
        var leavingAfterFailure = new List<int>();

        for (var t = TimeSpan.Zero; t <= S(130); t += Period)
        {
            foreach (var action in _controller.Tick(0))
            {
                switch (action)
                {
                    case ScaleAction.Drain drain:
                        drain.Replica.SetState(ReplicaState.Draining);
                        break;
                    case ScaleAction.Remove remove when removals.Count == 0:
                        // The scaler threw (an API server away): the replica is still the pool's, draining.
                        removals.Add(t);
                        _controller.Failed(action);
                        break;
                    case ScaleAction.Remove remove:
                        removals.Add(t);
                        remove.Replica.Pool.RemoveReplica(remove.Replica);
                        break;
                }
            }

            if (removals.Count == 1)
            {
                leavingAfterFailure.Add(_controller.LeavingCount(Cloud));
            }

            _time.Advance(Period);
        }

        // Drained at 120 s (the stabilisation window), removal tried at 120.25 s, failed, tried again 5 s later; counted
        // as leaving (its pod still there) all the while, so a scale-out meanwhile asks for it to be kept counted.
        Assert.Equal([S(120.25), S(125.25)], removals);
        Assert.All(leavingAfterFailure, count => Assert.Equal(1, count));
        Assert.Empty(Cloud.Replicas);
        Assert.Equal(0, _controller.LeavingCount(Cloud));
    }

    [Fact]
    public void Tick_FlappingFasterThanStabilisation_NeitherScalesInNorAsksAgain()
    {
        Build(min: 0, max: 4);

        // A burst, then ten minutes of demand swinging every 20 s between wanting 1 and 3 replicas, then steady at 1.
        var log = Run(TimeSpan.FromSeconds(731), t =>
        {
            if (t < S(10))
            {
                return 6;
            }

            if (t >= S(610))
            {
                return 2;
            }

            return (int)((t - S(10)).TotalSeconds / 20) % 2 == 0 ? 2 : 6;
        }, at: t =>
        {
            if (t == S(10))
            {
                MakeReady(Cloud.Replicas);
            }
        });

        var replicas = Replicas(3);
        Assert.Equal(
            [
                (S(2), new ScaleAction.Add(Cloud, 3)),
                (S(730), new ScaleAction.Drain(replicas[2])),
                (S(730.25), new ScaleAction.Remove(replicas[2])),
                (S(730.5), new ScaleAction.Drain(replicas[1])),
                (S(730.75), new ScaleAction.Remove(replicas[1])),
            ],
            log);
        Assert.Equal([replicas[0]], Cloud.Replicas);
    }

    [Fact]
    public void Tick_DropToZero_AfterStabilisationRemovesNewestFirstOneAtATimeDownToMin()
    {
        Build(min: 1, max: 3);
        Replica? busy = null;

        var log = Run(TimeSpan.FromSeconds(200), t => t < S(10) ? 6 : 0, at: t =>
        {
            if (t == S(5))
            {
                MakeReady(Cloud.Replicas);
                busy = Cloud.Replicas[2];
                Assert.True(busy.TryReserve());
            }
            else if (t == S(135))
            {
                busy!.Release();
            }
        });

        var replicas = Replicas(3);
        Assert.Equal(
            [
                (S(2), new ScaleAction.Add(Cloud, 3)),
                (S(130), new ScaleAction.Drain(replicas[2])),
                (S(135), new ScaleAction.Remove(replicas[2])),
                (S(135.25), new ScaleAction.Drain(replicas[1])),
                (S(135.5), new ScaleAction.Remove(replicas[1])),
            ],
            log);
        Assert.Equal([replicas[0]], Cloud.Replicas);
        Assert.Equal(1, Cloud.DesiredReplicas);
        Assert.Equal(
            ["out", "in", "in"],
            [.. _metrics.RecentScaleEvents().Select(e => e.Direction)]);
        Assert.Equal([Start + S(2), Start + S(130), Start + S(135.25)], [.. _metrics.RecentScaleEvents().Select(e => e.At)]);
    }

    [Fact]
    public void Tick_DrainingReplicaWithRequestsInFlight_IsRemovedWhenTheLastOneEnds()
    {
        Build(min: 0, max: 2);

        var log = Run(TimeSpan.FromSeconds(155), t => t < S(10) ? 6 : 0, at: t =>
        {
            if (t == S(5))
            {
                MakeReady(Cloud.Replicas);
                Assert.True(Cloud.Replicas[1].TryReserve());
                Assert.True(Cloud.Replicas[1].TryReserve());
            }
            else if (t == S(140) || t == S(150))
            {
                Cloud.Replicas[1].Release();
            }
        });

        var replicas = Replicas(2);
        Assert.Equal(
            [
                (S(2), new ScaleAction.Add(Cloud, 2)),
                (S(130), new ScaleAction.Drain(replicas[1])),
                (S(150), new ScaleAction.Remove(replicas[1])),
                (S(150.25), new ScaleAction.Drain(replicas[0])),
                (S(150.5), new ScaleAction.Remove(replicas[0])),
            ],
            log);
        Assert.Empty(Cloud.Replicas);
    }

    [Fact]
    public void Tick_DrainingReplicaThatNeverFinishes_IsRemovedAtTheDrainTimeout()
    {
        Build(min: 0, max: 2);

        var log = Run(TimeSpan.FromSeconds(160), t => t < S(10) ? 6 : 0, at: t =>
        {
            if (t == S(5))
            {
                MakeReady(Cloud.Replicas);
                Assert.True(Cloud.Replicas[1].TryReserve());
            }
        });

        var replicas = Replicas(2);
        Assert.Equal(
            [
                (S(2), new ScaleAction.Add(Cloud, 2)),
                (S(130), new ScaleAction.Drain(replicas[1])),
                (S(160), new ScaleAction.Remove(replicas[1])),
            ],
            log);
        Assert.Equal(1, replicas[1].InFlight);
    }

    [Fact]
    public void Tick_DemandReturnsWhileOneDrains_AddsInsteadOfDrainingMore()
    {
        Build(min: 0, max: 3);

        var log = Run(TimeSpan.FromSeconds(140), t => t < S(10) ? 6 : t < S(130.5) ? 0 : 6, at: t =>
        {
            if (t == S(5))
            {
                MakeReady(Cloud.Replicas);
                Assert.True(Cloud.Replicas[2].TryReserve());
            }
        });

        var replicas = Replicas(4);
        Assert.Equal(
            [
                (S(2), new ScaleAction.Add(Cloud, 3)),
                (S(130), new ScaleAction.Drain(replicas[2])),
                (S(132.5), new ScaleAction.Add(Cloud, 1)),
            ],
            log);
        Assert.Equal(ReplicaState.Provisioning, replicas[3].State);
    }

    [Fact]
    public void Tick_SlowScalerDuringALongBoot_IsAskedOnce()
    {
        Build(min: 0, max: 4);

        // A webhook's replicas join only once their nodes have booted, 38 s after they were asked for.
        var log = Run(TimeSpan.FromSeconds(60), _ => 6, slow: true, at: t =>
        {
            if (t == S(40))
            {
                AddReplicas(3, ReplicaState.Ready);
            }
        });

        Assert.Equal([(S(2), new ScaleAction.Add(Cloud, 3))], log);
        Assert.Equal(3, Cloud.ReadyCount);
        Assert.Single(_metrics.RecentScaleEvents());
    }

    [Fact]
    public void Tick_SlowScalerPastTheProvisioningTimeout_IsAskedAgain()
    {
        Build(min: 0, max: 4, provisioningTimeout: 30);

        // Nothing arrives: at 32 s the request of 2 s has expired, and the wish holds the scale-out window again.
        var log = Run(TimeSpan.FromSeconds(40), _ => 6, slow: true);

        Assert.Equal([(S(2), new ScaleAction.Add(Cloud, 3)), (S(34), new ScaleAction.Add(Cloud, 3))], log);
        Assert.Equal(["out", "out"], [.. _metrics.RecentScaleEvents().Select(e => e.Direction)]);
    }

    [Fact]
    public void Tick_SlowScalerPartlyArrived_CountsTheRestAsOnTheirWay()
    {
        Build(min: 0, max: 4);

        var log = Run(TimeSpan.FromSeconds(30), _ => 6, slow: true, at: t =>
        {
            if (t == S(10))
            {
                AddReplicas(1, ReplicaState.Ready);
            }
        });

        Assert.Equal([(S(2), new ScaleAction.Add(Cloud, 3))], log);
        Assert.Equal(3, Cloud.DesiredReplicas);
    }

    [Fact]
    public void Tick_PeakEndsBeforeTheReplicasArrive_LowersTheRequestAfterStabilisation()
    {
        Build(min: 0, max: 4);

        // 6 wants three, then 2 wants one. Nothing has arrived when the wish for fewer has held 120 s; the one still
        // wanted arrives later and is not asked for again.
        var log = Run(TimeSpan.FromSeconds(160), t => t < S(10) ? 6 : 2, slow: true, at: t =>
        {
            if (t == S(140))
            {
                AddReplicas(1, ReplicaState.Ready);
            }
        });

        Assert.Equal([(S(2), new ScaleAction.Add(Cloud, 3)), (S(130), new ScaleAction.Lower(Cloud, 1, 3))], log);
        Assert.Equal(1, Cloud.DesiredReplicas);
        Assert.Equal(["out", "in"], [.. _metrics.RecentScaleEvents().Select(e => e.Direction)]);
    }

    [Fact]
    public void Tick_PeakEndsWithOneOfThreeArrived_LowersToItThenDrainsIt()
    {
        Build(min: 0, max: 4);

        var log = Run(TimeSpan.FromSeconds(135), t => t < S(10) ? 6 : 0, slow: true, at: t =>
        {
            if (t == S(20))
            {
                AddReplicas(1, ReplicaState.Ready);
            }
        });

        var arrived = Replicas(1)[0];
        Assert.Equal(
            [
                (S(2), new ScaleAction.Add(Cloud, 3)),
                (S(130), new ScaleAction.Lower(Cloud, 1, 3)),
                (S(130.25), new ScaleAction.Drain(arrived)),
                (S(130.5), new ScaleAction.Remove(arrived)),
            ],
            log);
        Assert.Equal(0, Cloud.DesiredReplicas);
    }

    [Fact]
    public void Tick_ScaleOutFailed_IsAskedAgainAfterTheWindow()
    {
        Build(min: 0, max: 4);

        // The first call fails (a webhook that answered 500 after its retries); the second is carried out.
        var failed = false;
        var log = Run(TimeSpan.FromSeconds(10), _ => 6, slow: true, done: action =>
        {
            if (!failed)
            {
                failed = true;
                _controller.Failed(action);
            }
        });

        Assert.Equal([(S(2), new ScaleAction.Add(Cloud, 3)), (S(4.25), new ScaleAction.Add(Cloud, 3))], log);
    }

    [Fact]
    public void Demand_ReplicaScrapedWithOtherGatewaysRequests_CountsThemToo()
    {
        Build(min: 0, max: 4);
        var onPrem = _service.Pools[0].Snapshot[0];

        // Another gateway has 2 running and 1 waiting on the on-prem replica: the leader must scale for them too.
        onPrem.SetLoad(new ReplicaLoad(2, 1, 0.1, OthersInFlight: 3, Saturated: true, ScrapedAt: 0));

        Assert.Equal(3, ScaleController.Demand(_service));
    }

    [Fact]
    public async Task Tick_WithoutDemandGiven_CountsRequestsInFlightAndQueued()
    {
        Build(min: 0, max: 4);
        using var clients = new CancellationTokenSource();

        // Two requests fill the on-prem replica, four wait in the queue: demand 6 wants three cloud replicas.
        var requests = new List<Task<Gateway.Admission.AdmissionOutcome>>();
        for (var i = 0; i < 6; i++)
        {
            requests.Add(_service.Queue.AcquireAsync(Tenant.Anonymous, clients.Token).AsTask());
        }

        Assert.Equal(6, ScaleController.Demand(_service));
        var log = Run(TimeSpan.FromSeconds(5), demand: null);

        Assert.Equal([(S(2), new ScaleAction.Add(Cloud, 3))], log);
        await clients.CancelAsync();
        foreach (var request in requests)
        {
            try
            {
                await request;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    [Fact]
    public async Task Tick_OnlyOnPremOnlyRequestsWait_AsksTheCloudForNothing()
    {
        // At a target of 1.0 the full on-prem replica alone wants no cloud replica: only what waits could.
        Build(min: 0, max: 4, targetUtilization: 1.0);
        using var clients = new CancellationTokenSource();
        var requests = new List<Task<Gateway.Admission.AdmissionOutcome>>();
        Send(_service, TestTopology.NewTenant("app"), 2, requests, clients.Token);
        Send(_service, TestTopology.NewTenant("records", residency: Residency.OnPremOnly), 4, requests, clients.Token);

        Assert.Equal((6, 2), (ScaleController.Demand(_service), _controller.CloudDemand()));
        var log = Run(TimeSpan.FromSeconds(5), demand: null);

        Assert.Empty(log);
        Assert.Equal(0, _controller.Wanted(Cloud));
        await LeaveAsync(clients, requests);
    }

    [Fact]
    public async Task Tick_AClassThatDoesNotScaleCloudWaitsBesideOneThatDoes_AsksOnlyForTheOneThatDoes()
    {
        Build(min: 0, max: 4, targetUtilization: 1.0, classes: new() { [PriorityClass.Sheddable] = new PriorityClassOptions { ScalesCloud = false } });
        using var clients = new CancellationTokenSource();
        var requests = new List<Task<Gateway.Admission.AdmissionOutcome>>();
        Send(_service, TestTopology.NewTenant("app"), 4, requests, clients.Token);
        Send(_service, TestTopology.NewTenant("batch", PriorityClass.Sheddable), 6, requests, clients.Token);

        // 2 in flight + 2 Standard waiting: one cloud replica (2 + 2 = 4); the 6 Sheddable ones would have wanted three more.
        Assert.Equal((10, 4), (ScaleController.Demand(_service), _controller.CloudDemand()));
        var log = Run(TimeSpan.FromSeconds(5), demand: null);

        Assert.Equal([(S(2), new ScaleAction.Add(Cloud, 1))], log);
        await LeaveAsync(clients, requests);
    }

    [Fact]
    public async Task Tick_ElasticPoolLocatedOnPrem_ScalesForOnPremOnlyRequestsToo()
    {
        var burst = TestTopology.Pool("on-prem-burst", 1, 2, "http://10.0.2.1:8000");
        burst.Location = PoolLocation.OnPrem;
        burst.Scaling = new ScalingOptions { MaxReplicas = 4 };
        var service = TestTopology.Service(TestTopology.Pool("on-prem", 0, 2, "http://10.0.0.1:8000"), burst);
        service.TargetUtilization = 1.0;
        _service = TestTopology.Build(TestTopology.Options(service), _time).Services[0];
        TestTopology.Add(_service.OnPrem(), "http://10.0.0.1:8000");
        _controller = new ScaleController(_service, _time);
        using var clients = new CancellationTokenSource();
        var requests = new List<Task<Gateway.Admission.AdmissionOutcome>>();
        Send(_service, TestTopology.NewTenant("records", residency: Residency.OnPremOnly), 6, requests, clients.Token);

        var log = Run(TimeSpan.FromSeconds(5), demand: null);

        Assert.Equal([(S(2), new ScaleAction.Add(_service.FindPool("on-prem-burst")!, 2))], log);
        await LeaveAsync(clients, requests);
    }

    [Fact]
    public void Tick_TwoElasticPools_TheLowerOneCarriesOnlyWhatTheHigherCannotAtItsMax()
    {
        var cloud = TestTopology.Pool("cloud", 1, 2, "http://10.0.1.1:8000");
        cloud.Scaling = new ScalingOptions { MaxReplicas = 1 };
        var spot = TestTopology.Pool("spot", 2, 2, "http://10.0.2.1:8000");
        spot.Scaling = new ScalingOptions { MaxReplicas = 4 };
        var topology = TestTopology.Build(TestTopology.Options(TestTopology.Service(TestTopology.Pool("on-prem", 0, 2, "http://10.0.0.1:8000"), cloud, spot)), _time);
        _service = topology.Services[0];
        TestTopology.Add(_service.OnPrem(), "http://10.0.0.1:8000");
        _controller = new ScaleController(_service, _time);

        // 6 over on-prem 2 + cloud 1 × 2 + spot 2 × 2 = 0.75: spot needs two, not the three it would alone behind on-prem.
        var log = Run(TimeSpan.FromSeconds(5), _ => 6);

        var spotPool = _service.FindPool("spot")!;
        Assert.Equal([(S(2), new ScaleAction.Add(Cloud, 1)), (S(2), new ScaleAction.Add(spotPool, 2))], log);
        Assert.Equal((1, 2), (_controller.Wanted(Cloud), _controller.Wanted(spotPool)));
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(1, 0, 0)] // 1 / 2 = 0.5: on-prem carries it
    [InlineData(2, 0, 1)] // 2 / 2 = 1.0 > 0.8
    [InlineData(1, 1, 1)] // on-prem carries it, but the pool keeps its minimum
    [InlineData(4, 0, 2)]
    [InlineData(6, 0, 3)] // 6 / 8 = 0.75
    [InlineData(7, 0, 4)] // 7 / 8 = 0.875, 7 / 10 = 0.7
    [InlineData(100, 0, 5)]
    public void DesiredReplicas_CountsCapacityAboveFirst_WithinMinAndMax(int demand, int min, int expected)
    {
        Assert.Equal(expected, ScaleController.DesiredReplicas(demand, 0.8, capacityAbove: 2, capacityPerReplica: 2, min, max: 5));
    }

    [Fact]
    public void DesiredReplicas_DemandExactlyAtTheTarget_WantsNoMore()
    {
        // 4 / (0 + 5 × 1) = 0.8: at the target is within it.
        Assert.Equal(5, ScaleController.DesiredReplicas(4, 0.8, capacityAbove: 0, capacityPerReplica: 1, min: 0, max: 10));
    }

    [Fact]
    public void Tick_BudgetSpent_CloudPoolKeepsItsReplicas_AndScalesOutOnceItIsFree()
    {
        Build(min: 0, max: 4);
        AddReplicas(1, ReplicaState.Ready);
        _service.BudgetSpent = true;

        var log = Run(TimeSpan.FromSeconds(10), _ => 6, at: t => _service.BudgetSpent = t < S(5));

        // Demand 6 wants three: none while the budget is spent, all of them once the window has passed after it is not.
        Assert.Equal([(S(7), new ScaleAction.Add(Cloud, 2))], log);
        Assert.Equal(3, Cloud.DesiredReplicas);
    }

    [Fact]
    public void Tick_BudgetSpent_CloudPoolStillScalesIn()
    {
        Build(min: 0, max: 4);
        AddReplicas(2, ReplicaState.Ready);
        _service.BudgetSpent = true;
        var newest = Cloud.Replicas[1];

        var log = Run(TimeSpan.FromSeconds(125), _ => 2);

        // Demand 2 wants one: the newest leaves after the stabilisation window, as it would with money left.
        Assert.Equal([(S(120), new ScaleAction.Drain(newest)), (S(120.25), new ScaleAction.Remove(newest))], log);
        Assert.Equal(1, Cloud.DesiredReplicas);
    }

    [Theory]
    [InlineData(10.0, 4.0, 0, 2)] // two replicas cost 8 an hour, three 12
    [InlineData(12.0, 4.0, 0, 3)] // exactly three
    [InlineData(100.0, 4.0, 0, 4)] // the pool's own maximum is lower
    [InlineData(3.0, 4.0, 1, 1)] // not even one fits, but the pool keeps its minimum
    [InlineData(10.0, 0.0, 0, 4)] // unpriced: the budget cannot limit it
    public void Tick_CloudPoolWithABudget_IsNeverAskedForMoreThanAnHourOfItAffords(double maxPerHour, double perReplicaHour, int min, int expected)
    {
        Build(min: min, max: 4, maxPerHour: maxPerHour, perReplicaHour: perReplicaHour);

        Run(TimeSpan.FromSeconds(5), _ => 100);

        Assert.Equal(expected, _controller.Wanted(Cloud));
        Assert.Equal(expected, Cloud.DesiredReplicas);
    }

    [Fact]
    public void Tick_ProviderPool_IsNoCapacityForTheGpuCloud()
    {
        // A bridge of 16 listed first: were its slots counted above the cloud pool, demand 6 would want no cloud replica.
        var provider = new PoolOptions
        {
            Name = "provider",
            Role = PoolRole.Bridge,
            Provider = new ProviderSourceOptions { BaseUrl = "https://api.example.com/v1", MaxConcurrency = 16 },
        };
        Build(min: 0, max: 4, provider: provider);
        TestTopology.Add(_service.FindPool("provider")!, "https://api.example.com/v1");

        var log = Run(TimeSpan.FromSeconds(5), _ => 6);

        Assert.Equal([(S(2), new ScaleAction.Add(Cloud, 3))], log);
    }

    [Fact]
    public void Wanted_FixedPool_IsNull()
    {
        Build(min: 0, max: 2);

        Assert.Null(_controller.Wanted(_service.OnPrem()));
    }

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    private static void MakeReady(IEnumerable<Replica> replicas)
    {
        foreach (var replica in replicas)
        {
            replica.SetState(ReplicaState.Ready);
        }
    }

    private void AddReplicas(int count, ReplicaState state)
    {
        for (var i = 0; i < count; i++)
        {
            TestTopology.Add(Cloud, NextAddress(), state);
        }
    }

    private void Build(
        int min,
        int max,
        double provisioningTimeout = 600,
        double targetUtilization = 0.8,
        Dictionary<PriorityClass, PriorityClassOptions>? classes = null,
        double? maxPerHour = null,
        double perReplicaHour = 0,
        PoolOptions? provider = null)
    {
        var cloud = TestTopology.Pool("cloud", 1, 2, "http://10.0.1.1:8000");
        cloud.Scaling = new ScalingOptions { MinReplicas = min, MaxReplicas = max, ProvisioningTimeoutSeconds = provisioningTimeout };
        cloud.Cost = new CostOptions { PerReplicaHour = perReplicaHour };
        PoolOptions[] pools = provider is null ? [TestTopology.Pool("on-prem", 0, 2, "http://10.0.0.1:8000"), cloud] : [provider, TestTopology.Pool("on-prem", 0, 2, "http://10.0.0.1:8000"), cloud];
        var service = TestTopology.Service(pools);
        service.TargetUtilization = targetUtilization;
        service.Budget = maxPerHour is { } budget ? new BudgetOptions { MaxPerHour = budget } : null;
        var topology = TestTopology.Build(TestTopology.Options(service), _time);
        _service = topology.Services[0];
        TestTopology.Add(_service.OnPrem(), "http://10.0.0.1:8000");
        _metrics = new GatewayMetrics(topology, _time);
        _controller = new ScaleController(_service, _time, _metrics, classes);
    }

    /// <summary>Requests of <paramref name="tenant"/> through the service's queue: they take free slots, the rest wait.</summary>
    private static void Send(InferenceService service, Tenant tenant, int count, List<Task<Gateway.Admission.AdmissionOutcome>> requests, CancellationToken aborted)
    {
        for (var i = 0; i < count; i++)
        {
            requests.Add(service.Queue.AcquireAsync(tenant, aborted).AsTask());
        }
    }

    private static async Task LeaveAsync(CancellationTokenSource clients, List<Task<Gateway.Admission.AdmissionOutcome>> requests)
    {
        await clients.CancelAsync();
        await Task.WhenAll(requests);
    }

    /// <summary>Every cloud replica ever added, in order, by the names the pool gave them.</summary>
    private Replica[] Replicas(int count)
    {
        var replicas = new Replica[count];
        foreach (var (_, action) in _log)
        {
            var replica = action switch
            {
                ScaleAction.Drain drain => drain.Replica,
                ScaleAction.Remove remove => remove.Replica,
                _ => null,
            };
            if (replica is not null)
            {
                replicas[int.Parse(replica.Id["cloud-".Length..], System.Globalization.CultureInfo.InvariantCulture) - 1] = replica;
            }
        }

        foreach (var replica in Cloud.Replicas)
        {
            replicas[int.Parse(replica.Id["cloud-".Length..], System.Globalization.CultureInfo.InvariantCulture) - 1] = replica;
        }

        return replicas;
    }

    /// <summary>
    /// Ticks every 250 ms from the start for <paramref name="duration"/> with the demand the function gives (null: the
    /// service's own), carrying
    /// out each action as the replica source will: added replicas join as provisioning (unless the scaler is
    /// <paramref name="slow"/>: then they join when <paramref name="at"/> adds them), drained ones are marked
    /// draining, removed ones leave. <paramref name="at"/> runs before each tick, <paramref name="done"/> after each
    /// action is carried out.
    /// </summary>
    private List<(TimeSpan At, ScaleAction Action)> Run(
        TimeSpan duration, Func<TimeSpan, int>? demand, Action<TimeSpan>? at = null, bool slow = false, Action<ScaleAction>? done = null)
    {
        for (var t = TimeSpan.Zero; t <= duration; t += Period)
        {
            Assert.Equal(Start + t, _time.GetUtcNow());
            at?.Invoke(t);
            foreach (var action in demand is null ? _controller.Tick() : _controller.Tick(demand(t)))
            {
                _log.Add((t, action));
                switch (action)
                {
                    case ScaleAction.Add add when !slow:
                        for (var i = 0; i < add.Count; i++)
                        {
                            TestTopology.Add(add.Pool, NextAddress(), ReplicaState.Provisioning);
                        }

                        break;
                    case ScaleAction.Drain drain:
                        drain.Replica.SetState(ReplicaState.Draining);
                        break;
                    case ScaleAction.Remove remove:
                        remove.Replica.Pool.RemoveReplica(remove.Replica);
                        break;
                }

                done?.Invoke(action);
            }

            _time.Advance(Period);
        }

        return _log;
    }

    private string NextAddress() => $"http://10.0.1.{++_addresses}:8000";
}

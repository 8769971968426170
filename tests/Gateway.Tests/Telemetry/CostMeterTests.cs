using Gateway.Configuration;
using Gateway.Model;
using Gateway.Telemetry;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Telemetry;

/// <summary>
/// The cost meter on a fake clock, over one service with an on-prem pool (amortised at 1.8 per replica-hour), an elastic
/// cloud pool (3.6 per replica-hour: 0.001 per replica-second) and a bridge provider (2.0 per million prompt tokens, 8.0
/// per million completion tokens), ticked every second as its hosted loop does.
/// </summary>
public sealed class CostMeterTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 4, 0, 10, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private InferenceService _service = null!;
    private GatewayMetrics _metrics = null!;
    private CostMeter _meter = null!;

    private Pool OnPrem => _service.FindPool("on-prem")!;

    private Pool Cloud => _service.FindPool("cloud")!;

    private Pool Provider => _service.FindPool("provider")!;

    [Fact]
    public void Tick_ReplicasReadyProvisioningAndDraining_AreChargedTheirReplicaSecondsAtTheHourlyPrice()
    {
        Build();
        TestTopology.Add(Cloud, "http://10.0.1.1:8000", ReplicaState.Ready);
        TestTopology.Add(Cloud, "http://10.0.1.2:8000", ReplicaState.Provisioning);
        TestTopology.Add(Cloud, "http://10.0.1.3:8000", ReplicaState.Draining);
        TestTopology.Add(Cloud, "http://10.0.1.4:8000", ReplicaState.Stopped);

        TickEverySecond(TimeSpan.FromSeconds(100));

        var cloud = _meter.Read(Cloud);
        Assert.Equal(300, cloud.ReplicaSeconds);
        Assert.Equal(0.3, cloud.Total, 12);
        Assert.Equal(0.3, cloud.LastHour, 12);
        Assert.Equal(3 * 3.6, cloud.PerHour, 12);
    }

    [Fact]
    public void Tick_AfterAPause_ChargesTheWholeTimeSinceTheLastTick()
    {
        Build();
        TestTopology.Add(Cloud, "http://10.0.1.1:8000");

        _time.Advance(TimeSpan.FromSeconds(30));
        _meter.Tick();

        Assert.Equal(30, _meter.Read(Cloud).ReplicaSeconds);
        Assert.Equal(0.03, _meter.Read(Cloud).Total, 12);
    }

    [Fact]
    public void Answered_TokensAreChargedAtTheirPricePerMillion_Exactly()
    {
        Build();

        _meter.Answered(Provider, promptTokens: 1_000_000, completionTokens: 0);
        _meter.Answered(Provider, promptTokens: 0, completionTokens: 500_000);

        var provider = _meter.Read(Provider);
        Assert.Equal(6.0, provider.Total);
        Assert.Equal(6.0, provider.LastHour);
        Assert.Equal(6.0, provider.PerHour);
        Assert.Null(provider.ReplicaSeconds);
    }

    [Fact]
    public void Answered_OnAnUnpricedPool_CostsNothing()
    {
        Build();

        _meter.Answered(Cloud, 1_000_000, 1_000_000);

        Assert.Equal(0, _meter.Read(Cloud).Total);
    }

    [Fact]
    public void Answered_ReachingTheBudget_SpendsItAtOnce_AndTheHourSlidingPastFreesItAndWakesTheQueue()
    {
        Build(maxPerHour: 6.0);
        var woken = new WakeCounter();
        Provider.AddCapacityListener(woken);

        _meter.Answered(Provider, 1_000_000, 0);
        Assert.False(_service.BudgetSpent);

        _meter.Answered(Provider, 0, 500_000);
        Assert.True(_service.BudgetSpent);
        Assert.Equal(new BudgetStatus(6.0, 6.0, true), _meter.Budget(_service));

        // Charged at 04:00:10, in the minute of 04:00: counted until the window's oldest minute is 04:01.
        _time.Advance(TimeSpan.FromMinutes(59) + TimeSpan.FromSeconds(49));
        _meter.Tick();
        Assert.True(_service.BudgetSpent);
        Assert.Equal(0, woken.Count);

        _time.Advance(TimeSpan.FromSeconds(1));
        _meter.Tick();
        Assert.False(_service.BudgetSpent);
        Assert.Equal(new BudgetStatus(6.0, 0, false), _meter.Budget(_service));
        Assert.Equal(1, woken.Count);
        Assert.Equal(6.0, _meter.Read(Provider).Total);

        _meter.Tick();
        Assert.Equal(1, woken.Count);
    }

    [Fact]
    public void Tick_CloudReplicaTimeCountsTowardTheBudget_OnPremNever()
    {
        Build(maxPerHour: 0.0495);
        TestTopology.Add(OnPrem, "http://10.0.0.1:8000");
        TestTopology.Add(OnPrem, "http://10.0.0.2:8000");

        TickEverySecond(TimeSpan.FromMinutes(10));

        Assert.Equal(0.6, _meter.Read(OnPrem).Total, 12);
        Assert.Equal(0, _meter.Budget(_service)!.Value.SpentLastHour);
        Assert.False(_service.BudgetSpent);

        TestTopology.Add(Cloud, "http://10.0.1.1:8000", ReplicaState.Provisioning);
        TickEverySecond(TimeSpan.FromSeconds(49));
        Assert.False(_service.BudgetSpent);

        TickEverySecond(TimeSpan.FromSeconds(1));
        Assert.True(_service.BudgetSpent);
        Assert.Equal(0.05, _meter.Budget(_service)!.Value.SpentLastHour, 12);
    }

    [Fact]
    public void Tick_AnHourAtTheAffordableCount_StaysUnderTheBudget()
    {
        // Two cloud replicas at 3.6 fit a budget of 7.2 for an hour: the sliding hour must never read more than that.
        Build(maxPerHour: 7.2);
        TestTopology.Add(Cloud, "http://10.0.1.1:8000");
        TestTopology.Add(Cloud, "http://10.0.1.2:8000");

        for (var second = 0; second < 3 * 3600; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            _meter.Tick();
            Assert.False(_service.BudgetSpent);
        }

        Assert.Equal(3 * 7.2, _meter.Read(Cloud).Total, 9);
    }

    [Fact]
    public void Budget_WithoutOne_IsNull()
    {
        Build();

        Assert.Null(_meter.Budget(_service));
    }

    [Fact]
    public async Task Metrics_CostPerPool_ReplicaSecondsPerGpuPool_AndTheBudget_AreExported()
    {
        Build(maxPerHour: 10);
        TestTopology.Add(Cloud, "http://10.0.1.1:8000");
        TickEverySecond(TimeSpan.FromSeconds(10));
        _meter.Answered(Provider, 1_000_000, 0);

        using var text = new MemoryStream();
        await _metrics.Registry.CollectAndExportAsTextAsync(text);
        var samples = Gateway.Testing.MetricsText.Parse(System.Text.Encoding.UTF8.GetString(text.ToArray()));

        Assert.Equal(0, samples["gateway_cost_total{service=\"qwen-chat\",pool=\"on-prem\"}"]);
        Assert.Equal(0.01, samples["gateway_cost_total{service=\"qwen-chat\",pool=\"cloud\"}"], 12);
        Assert.Equal(2.0, samples["gateway_cost_total{service=\"qwen-chat\",pool=\"provider\"}"]);
        Assert.Equal(0, samples["gateway_pool_replica_seconds_total{service=\"qwen-chat\",pool=\"on-prem\"}"]);
        Assert.Equal(10, samples["gateway_pool_replica_seconds_total{service=\"qwen-chat\",pool=\"cloud\"}"]);
        Assert.False(samples.ContainsKey("gateway_pool_replica_seconds_total{service=\"qwen-chat\",pool=\"provider\"}"));
        Assert.Equal(2.01, samples["gateway_budget_spent_last_hour{service=\"qwen-chat\"}"], 12);
        Assert.Equal(10, samples["gateway_budget_max_per_hour{service=\"qwen-chat\"}"]);
    }

    [Fact]
    public async Task Metrics_ServiceWithoutBudget_ExportsNoBudgetSeries()
    {
        Build();

        using var text = new MemoryStream();
        await _metrics.Registry.CollectAndExportAsTextAsync(text);
        var samples = Gateway.Testing.MetricsText.Parse(System.Text.Encoding.UTF8.GetString(text.ToArray()));

        Assert.DoesNotContain(samples.Keys, key => key.StartsWith("gateway_budget_", StringComparison.Ordinal));
        Assert.Equal(0, samples["gateway_cost_total{service=\"qwen-chat\",pool=\"provider\"}"]);
    }

    [Fact]
    public void Answered_AllocatesNothing()
    {
        Build(maxPerHour: 1_000_000);
        var provider = Provider;
        _meter.Answered(provider, 10, 20);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            _meter.Answered(provider, 10, 20);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private void Build(double? maxPerHour = null)
    {
        var onPrem = TestTopology.Pool("on-prem", 0, 4);
        onPrem.Cost = new CostOptions { PerReplicaHour = 1.8 };
        var cloud = TestTopology.Pool("cloud", 1, 4);
        cloud.Scaling = new ScalingOptions { MinReplicas = 0, MaxReplicas = 4 };
        cloud.Cost = new CostOptions { PerReplicaHour = 3.6 };
        var provider = new PoolOptions
        {
            Name = "provider",
            Priority = 2,
            Role = PoolRole.Bridge,
            Provider = new ProviderSourceOptions { BaseUrl = "https://api.example.com/v1" },
            Cost = new CostOptions { PerMillionPromptTokens = 2.0, PerMillionCompletionTokens = 8.0 },
        };
        var service = TestTopology.Service(onPrem, cloud, provider);
        service.Budget = maxPerHour is { } max ? new BudgetOptions { MaxPerHour = max } : null;
        var topology = TestTopology.Build(TestTopology.Options(service), _time);
        _service = topology.Services[0];
        _metrics = new GatewayMetrics(topology, _time);
        _meter = new CostMeter(topology, _metrics, _time);
    }

    private void TickEverySecond(TimeSpan duration)
    {
        for (var t = TimeSpan.Zero; t < duration; t += TimeSpan.FromSeconds(1))
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            _meter.Tick();
        }
    }

    private sealed class WakeCounter : ICapacityListener
    {
        public int Count { get; private set; }

        public void OnCapacityFreed(Pool pool) => Count++;
    }
}

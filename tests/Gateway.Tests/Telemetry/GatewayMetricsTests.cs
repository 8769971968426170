using Gateway.Configuration;
using Gateway.Model;
using Gateway.Telemetry;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Telemetry;

public sealed class GatewayMetricsTests
{
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 11, 26, 4, 0, 0, TimeSpan.Zero));

    private static GatewayMetrics Metrics()
    {
        var options = new GatewayOptions
        {
            Services =
            [
                new ServiceOptions
                {
                    Name = "qwen-chat",
                    Models = ["qwen"],
                    Pools = [new PoolOptions { Name = "on-prem", Static = ["http://10.0.0.1:8000"] }],
                },
            ],
        };
        return new GatewayMetrics(TestTopology.Build(options, Time), Time);
    }

    [Fact]
    public void RequestPathUpdates_AfterTheFirstOfALabelSet_AllocateNothing()
    {
        var metrics = Metrics();
        void Answer()
        {
            var pool = metrics.Pool("qwen-chat", "on-prem");
            pool.Answered(200);
            pool.Duration.Observe(0.5);
            pool.TimeToFirstToken.Observe(0.05);
            pool.PromptTokens.Inc(8);
            pool.CompletionTokens.Inc(10);
            pool.Retried(RetryReasons.Overloaded);
            metrics.Rejected("qwen-chat", RejectionReasons.QueueFull);
            metrics.Pool("qwen-chat", GatewayMetrics.NoPool).Answered(429);
            metrics.QueueWait("qwen-chat", PriorityClass.Critical, TimeSpan.FromMilliseconds(5));
        }

        Answer();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            Answer();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ScaleEvent_IsKeptWithItsTime_AndOnlyTheLatestFiftyRemain()
    {
        var metrics = Metrics();

        for (var i = 0; i < 60; i++)
        {
            metrics.ScaleEvent("qwen-chat", "cloud-elastic", i % 2 == 0 ? "out" : "in");
        }

        var recent = metrics.RecentScaleEvents();
        Assert.Equal(50, recent.Count);
        Assert.Equal(new ScaleEvent(Time.GetUtcNow(), "qwen-chat", "cloud-elastic", "out"), recent[0]);
        Assert.Equal("in", recent[^1].Direction);
    }

    [Fact]
    public async Task PoolMinAndMax_ElasticFromScaling_FixedFromTheirCount_KubernetesFixedHasNoMax()
    {
        var options = new GatewayOptions
        {
            Services =
            [
                new ServiceOptions
                {
                    Name = "qwen-chat",
                    Models = ["qwen"],
                    Pools =
                    [
                        new PoolOptions { Name = "on-prem", Static = ["http://10.0.0.1:8000", "http://10.0.0.2:8000"] },
                        new PoolOptions
                        {
                            Name = "cloud",
                            Priority = 1,
                            Static = ["http://10.0.1.1:8000", "http://10.0.1.2:8000", "http://10.0.1.3:8000"],
                            Scaling = new Gateway.Configuration.ScalingOptions { MinReplicas = 1, MaxReplicas = 3, Webhook = new() { Url = "http://127.0.0.1:9/scale" } },
                        },
                        new PoolOptions { Name = "spot", Priority = 2, Kubernetes = new KubernetesSourceOptions { ServiceName = "qwen", Port = "http", PoolLabelValue = "np" } },
                    ],
                },
            ],
        };
        var metrics = new GatewayMetrics(TestTopology.Build(options, Time), Time);
        using var text = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(text);

        var samples = Gateway.Testing.MetricsText.Parse(System.Text.Encoding.UTF8.GetString(text.ToArray()));

        Assert.Equal(2, samples["gateway_pool_min_replicas{service=\"qwen-chat\",pool=\"on-prem\"}"]);
        Assert.Equal(2, samples["gateway_pool_max_replicas{service=\"qwen-chat\",pool=\"on-prem\"}"]);
        Assert.Equal(1, samples["gateway_pool_min_replicas{service=\"qwen-chat\",pool=\"cloud\"}"]);
        Assert.Equal(3, samples["gateway_pool_max_replicas{service=\"qwen-chat\",pool=\"cloud\"}"]);
        Assert.Equal(0, samples["gateway_pool_min_replicas{service=\"qwen-chat\",pool=\"spot\"}"]);
        Assert.False(samples.ContainsKey("gateway_pool_max_replicas{service=\"qwen-chat\",pool=\"spot\"}"));
    }

    [Fact]
    public async Task RejectionAndRetryReasons_AreExportedAtZeroForEveryConfiguredServiceAndPool_BeforeAnyTraffic()
    {
        var options = new GatewayOptions
        {
            Services =
            [
                new ServiceOptions
                {
                    Name = "qwen-chat",
                    Models = ["qwen"],
                    Pools =
                    [
                        new PoolOptions { Name = "on-prem", Static = ["http://10.0.0.1:8000"] },
                        new PoolOptions { Name = "cloud", Priority = 1, Static = ["http://10.0.1.1:8000"] },
                    ],
                },
                new ServiceOptions { Name = "llama", Models = ["llama"], Pools = [new PoolOptions { Name = "on-prem", Static = ["http://10.0.2.1:8000"] }] },
            ],
        };
        var metrics = new GatewayMetrics(TestTopology.Build(options, Time), Time);

        var lines = await ExportAsync(metrics, "gateway_rejected_total{", "gateway_retries_total{");

        Assert.Equal(
            [
                "gateway_rejected_total{service=\"llama\",reason=\"bad_request\"} 0",
                "gateway_rejected_total{service=\"llama\",reason=\"forbidden\"} 0",
                "gateway_rejected_total{service=\"llama\",reason=\"internal_error\"} 0",
                "gateway_rejected_total{service=\"llama\",reason=\"not_found\"} 0",
                "gateway_rejected_total{service=\"llama\",reason=\"queue_full\"} 0",
                "gateway_rejected_total{service=\"llama\",reason=\"queue_timeout\"} 0",
                "gateway_rejected_total{service=\"llama\",reason=\"rate_limited_concurrency\"} 0",
                "gateway_rejected_total{service=\"llama\",reason=\"rate_limited_requests\"} 0",
                "gateway_rejected_total{service=\"llama\",reason=\"rate_limited_tokens\"} 0",
                "gateway_rejected_total{service=\"llama\",reason=\"shed\"} 0",
                "gateway_rejected_total{service=\"llama\",reason=\"too_large\"} 0",
                "gateway_rejected_total{service=\"llama\",reason=\"unauthorized\"} 0",
                "gateway_rejected_total{service=\"llama\",reason=\"unavailable\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"bad_request\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"forbidden\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"internal_error\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"not_found\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"queue_full\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"queue_timeout\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"rate_limited_concurrency\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"rate_limited_requests\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"rate_limited_tokens\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"shed\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"too_large\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"unauthorized\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"unavailable\"} 0",
                "gateway_retries_total{service=\"llama\",pool=\"on-prem\",reason=\"connection_failed\"} 0",
                "gateway_retries_total{service=\"llama\",pool=\"on-prem\",reason=\"overloaded\"} 0",
                "gateway_retries_total{service=\"qwen-chat\",pool=\"cloud\",reason=\"connection_failed\"} 0",
                "gateway_retries_total{service=\"qwen-chat\",pool=\"cloud\",reason=\"overloaded\"} 0",
                "gateway_retries_total{service=\"qwen-chat\",pool=\"on-prem\",reason=\"connection_failed\"} 0",
                "gateway_retries_total{service=\"qwen-chat\",pool=\"on-prem\",reason=\"overloaded\"} 0",
            ],
            lines);
    }

    [Fact]
    public async Task CountedReasons_MoveTheirSeriesFromZero_AndARejectionWithoutServiceAddsNoRetrySeries()
    {
        var metrics = Metrics();

        metrics.Rejected("qwen-chat", RejectionReasons.QueueFull);
        metrics.Pool("qwen-chat", "on-prem").Retried(RetryReasons.Overloaded);
        metrics.Rejected(GatewayMetrics.NoPool, RejectionReasons.NotFound);
        metrics.Pool(GatewayMetrics.NoPool, GatewayMetrics.NoPool).Answered(404);

        var lines = await ExportAsync(metrics, "gateway_rejected_total{", "gateway_retries_total{");

        Assert.Equal(
            [
                "gateway_rejected_total{service=\"none\",reason=\"not_found\"} 1",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"bad_request\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"forbidden\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"internal_error\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"not_found\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"queue_full\"} 1",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"queue_timeout\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"rate_limited_concurrency\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"rate_limited_requests\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"rate_limited_tokens\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"shed\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"too_large\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"unauthorized\"} 0",
                "gateway_rejected_total{service=\"qwen-chat\",reason=\"unavailable\"} 0",
                "gateway_retries_total{service=\"qwen-chat\",pool=\"on-prem\",reason=\"connection_failed\"} 0",
                "gateway_retries_total{service=\"qwen-chat\",pool=\"on-prem\",reason=\"overloaded\"} 1",
            ],
            lines);
    }

    [Fact]
    public async Task QueueWait_ByClass_KeepsTheServiceSeriesAndAddsOneSeriesPerClassFromStart()
    {
        var metrics = Metrics();

        metrics.QueueWait("qwen-chat", PriorityClass.Critical, TimeSpan.FromSeconds(0.2));
        metrics.QueueWait("qwen-chat", PriorityClass.Sheddable, TimeSpan.FromSeconds(3));

        var lines = await ExportAsync(metrics, "gateway_queue_wait_seconds_count{", "gateway_queue_wait_seconds_sum{", "gateway_queue_wait_by_class_seconds_count{", "gateway_queue_wait_by_class_seconds_sum{");

        Assert.Equal(
            [
                "gateway_queue_wait_by_class_seconds_count{service=\"qwen-chat\",class=\"critical\"} 1",
                "gateway_queue_wait_by_class_seconds_count{service=\"qwen-chat\",class=\"sheddable\"} 1",
                "gateway_queue_wait_by_class_seconds_count{service=\"qwen-chat\",class=\"standard\"} 0",
                "gateway_queue_wait_by_class_seconds_sum{service=\"qwen-chat\",class=\"critical\"} 0.2",
                "gateway_queue_wait_by_class_seconds_sum{service=\"qwen-chat\",class=\"sheddable\"} 3",
                "gateway_queue_wait_by_class_seconds_sum{service=\"qwen-chat\",class=\"standard\"} 0",
                "gateway_queue_wait_seconds_count{service=\"qwen-chat\"} 2",
                "gateway_queue_wait_seconds_sum{service=\"qwen-chat\"} 3.2",
            ],
            lines);
    }

    [Fact]
    public async Task TenantSeries_StartAtZeroForEveryTenantGiven_AndCountWhatHappens()
    {
        var chat = new Tenant(new TenantOptions { Name = "chat" });
        var metrics = new GatewayMetrics(
            TestTopology.Build(TestTopology.Options(TestTopology.Service(TestTopology.Pool("on-prem", 0, 4, "http://10.0.0.1:8000"))), Time),
            Time,
            [chat, new Tenant(new TenantOptions { Name = "batch" })]);

        var instruments = metrics.Tenant(chat);
        instruments.Answered("qwen-chat", 200);
        instruments.Answered("qwen-chat", 429);
        instruments.Rejected(RejectionReasons.RateLimitedTokens);
        instruments.PromptTokens.Inc(8);
        instruments.CompletionTokens.Inc(5);
        instruments.InFlight.Inc();

        var lines = await ExportAsync(metrics, "gateway_tenant_");
        Assert.Equal(
            [
                .. RejectionReasons.All.Order(StringComparer.Ordinal).Select(r => $"gateway_tenant_rejected_total{{tenant=\"batch\",reason=\"{r}\"}} 0"),
                .. RejectionReasons.All.Order(StringComparer.Ordinal).Select(r =>
                    $"gateway_tenant_rejected_total{{tenant=\"chat\",reason=\"{r}\"}} {(r == "rate_limited_tokens" ? 1 : 0)}"),
                "gateway_tenant_requests_in_flight{tenant=\"batch\"} 0",
                "gateway_tenant_requests_in_flight{tenant=\"chat\"} 1",
                "gateway_tenant_requests_total{tenant=\"chat\",service=\"qwen-chat\",code=\"200\"} 1",
                "gateway_tenant_requests_total{tenant=\"chat\",service=\"qwen-chat\",code=\"429\"} 1",
                "gateway_tenant_tokens_total{tenant=\"batch\",kind=\"completion\"} 0",
                "gateway_tenant_tokens_total{tenant=\"batch\",kind=\"prompt\"} 0",
                "gateway_tenant_tokens_total{tenant=\"chat\",kind=\"completion\"} 5",
                "gateway_tenant_tokens_total{tenant=\"chat\",kind=\"prompt\"} 8",
            ],
            lines);
    }

    [Fact]
    public void TenantUpdates_AfterTheFirstOfALabelSet_AllocateNothing()
    {
        var chat = new Tenant(new TenantOptions { Name = "chat" });
        var metrics = Metrics();
        void Answer()
        {
            var instruments = metrics.Tenant(chat);
            instruments.Answered("qwen-chat", 200);
            instruments.Rejected(RejectionReasons.RateLimitedRequests);
            instruments.PromptTokens.Inc(8);
            instruments.CompletionTokens.Inc(10);
        }

        // Twice: the first call adds each series, and the second is the first to compare a (service, code) key, for which
        // the runtime makes the tuple's default comparer, once per process (88 bytes measured).
        Answer();
        Answer();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            Answer();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>The exposition's sample lines that start with one of <paramref name="prefixes"/>, sorted (the order of children is not a contract).</summary>
    private static async Task<string[]> ExportAsync(GatewayMetrics metrics, params string[] prefixes)
    {
        using var text = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(text);
        var lines = System.Text.Encoding.UTF8.GetString(text.ToArray())
            .Split('\n')
            .Where(line => prefixes.Any(prefix => line.StartsWith(prefix, StringComparison.Ordinal)))
            .ToArray();
        Array.Sort(lines, StringComparer.Ordinal);
        return lines;
    }
}

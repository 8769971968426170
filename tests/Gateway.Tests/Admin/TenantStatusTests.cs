using System.Text.Json;
using Gateway.Admin;
using Gateway.Admission;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Telemetry;
using Gateway.Tenancy;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Admin;

/// <summary>
/// A tenant in <c>/admin/status</c>: its limits, its use of them now, what it has in flight and waiting, what it was
/// served and refused. Requests per minute follow the system clock (System.Threading.RateLimiting), so only what holds
/// before the first refill, 30 s away at 2 a minute, is asserted of them.
/// </summary>
public sealed class TenantStatusTests : IDisposable
{
    private const string ChatKey = "sk-chat-status";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 18, 0, 0, TimeSpan.Zero));
    private readonly CancellationTokenSource _leave = new();
    private readonly TenantLimiters _limiters;
    private readonly ServiceQueues _queues;
    private readonly GatewayMetrics _metrics;
    private readonly InferenceService _service;

    public TenantStatusTests()
    {
        var options = Options(Service(Pool("on-prem", 0, 1), Pool("cloud", 1, 1)));
        options.Auth = new AuthOptions { Mode = AuthMode.ApiKeys };
        options.Tenants =
        [
            new TenantOptions
            {
                Name = "chat", Priority = PriorityClass.Critical, ApiKeyHashes = [TenantDirectory.Hash(ChatKey)],
                Limits = new TenantLimitsOptions { RequestsPerMinute = 2, TokensPerMinute = 1000, MaxConcurrent = 3 },
            },
            new TenantOptions { Name = "batch", Priority = PriorityClass.Sheddable, Residency = Residency.OnPremOnly, ApiKeyHashes = [TenantDirectory.Hash("sk-batch")] },
        ];
        var topology = new GatewayTopology(options);
        Directory = new TenantDirectory(options);
        _limiters = new TenantLimiters(Directory, _time);
        _queues = WithQueues(topology, _time, new Random(1));
        _metrics = new GatewayMetrics(topology, _time, Directory.Attributable);
        _service = topology.Services[0];
    }

    private TenantDirectory Directory { get; }

    private Tenant Chat => Directory.Tenants[0];

    private Tenant Batch => Directory.Tenants[1];

    public void Dispose()
    {
        _leave.Cancel();
        _leave.Dispose();
        _limiters.Dispose();
    }

    /// <summary>Both pools' one replica taken, so that requests wait.</summary>
    private Replica FillBothPools()
    {
        var onPrem = Add(_service.OnPrem(), "http://10.0.0.1:8000");
        Assert.True(onPrem.TryReserve());
        Assert.True(Add(_service.Cloud(), "http://10.0.1.1:8000").TryReserve());
        return onPrem;
    }

    [Fact]
    public async Task Read_TenantWithLimits_ShowsItsLimitsUseInFlightWaitingAndCounts()
    {
        var failed = FillBothPools();
        using var lease = _limiters.For(Chat)!.TryAcquire(300, out _);
        Assert.NotNull(lease);
        var waiting = _queues[_service].AcquireAsync(Chat, _leave.Token).AsTask();
        var again = _queues[_service].RequeueAsync(Chat, _time.GetTimestamp(), failed, _leave.Token).AsTask();
        var other = _queues[_service].AcquireAsync(Batch, _leave.Token).AsTask();
        var instruments = _metrics.Tenant(Chat);
        instruments.InFlight.Inc();
        instruments.Answered(_service.Name, 200);
        instruments.Answered(_service.Name, 200);
        instruments.Answered(_service.Name, 429);
        instruments.Rejected(RejectionReasons.RateLimitedTokens);

        var status = TenantStatus.Read(Chat, _limiters.For(Chat), _queues, _metrics);

        Assert.Equal(("chat", PriorityClass.Critical, Residency.Any), (status.Name, status.Priority, status.Residency));
        Assert.Equal((2, 1000, 3), (status.RequestsPerMinute, status.TokensPerMinute, status.MaxConcurrent));
        Assert.Equal(new RateLimitState(2, 1, TimeSpan.FromSeconds(30)), status.Requests);
        Assert.Equal((1000L, 700L), (status.Tokens!.Value.Limit, status.Tokens.Value.Remaining));
        Assert.Equal(18, status.Tokens.Value.Reset.TotalSeconds, precision: 6);
        Assert.Equal(1, status.InFlight);
        Assert.Equal([("qwen-chat", 2)], status.WaitingByService);
        Assert.Equal(2, status.Waiting);
        Assert.Equal(2, status.Served);
        Assert.Equal(RejectionReasons.All, status.Rejected.Select(r => r.Reason));
        Assert.Equal([("rate_limited_tokens", 1L)], status.Rejected.Where(r => r.Count != 0));

        _leave.Cancel();
        Assert.Equal(AdmissionFailure.ClientGone, (await waiting).Failure);
        Assert.Equal(AdmissionFailure.ClientGone, (await again).Failure);
        Assert.Equal(AdmissionFailure.ClientGone, (await other).Failure);
        Assert.Equal(0, TenantStatus.Read(Chat, _limiters.For(Chat), _queues, _metrics).Waiting);
    }

    [Fact]
    public async Task Read_TenantWithoutLimits_HasNoLimitsOrRates_AndOnlyItsOwnWaiting()
    {
        FillBothPools();
        var other = _queues[_service].AcquireAsync(Chat, _leave.Token).AsTask();
        var waiting = _queues[_service].AcquireAsync(Batch, _leave.Token).AsTask();

        var status = TenantStatus.Read(Batch, _limiters.For(Batch), _queues, _metrics);

        Assert.Equal(("batch", PriorityClass.Sheddable, Residency.OnPremOnly), (status.Name, status.Priority, status.Residency));
        Assert.Equal(((int?)null, (int?)null, (int?)null), (status.RequestsPerMinute, status.TokensPerMinute, status.MaxConcurrent));
        Assert.Null(status.Requests);
        Assert.Null(status.Tokens);
        Assert.Equal((0, 1, 0L), (status.InFlight, status.Waiting, status.Served));

        _leave.Cancel();
        await Task.WhenAll(other, waiting);
    }

    [Fact]
    public void Write_TenantWithLimits_WritesTheDocumentedFields_AndNoKey()
    {
        using var lease = _limiters.For(Chat)!.TryAcquire(300, out _);
        var status = TenantStatus.Read(Chat, _limiters.For(Chat), _queues, _metrics);

        using var json = Written(status);
        var tenant = json.RootElement;

        Assert.Equal(
            ["name", "class", "residency", "limits", "requests", "tokens", "inFlight", "waiting", "waitingByService", "served", "rejected"],
            tenant.EnumerateObject().Select(p => p.Name));
        Assert.Equal(("chat", "critical", "any"), (tenant.GetProperty("name").GetString(), tenant.GetProperty("class").GetString(), tenant.GetProperty("residency").GetString()));
        Assert.Equal("""{"requestsPerMinute":2,"tokensPerMinute":1000,"maxConcurrent":3}""", tenant.GetProperty("limits").GetRawText());
        Assert.Equal("""{"used":1,"remaining":1,"resetSeconds":30}""", tenant.GetProperty("requests").GetRawText());
        Assert.Equal("""{"used":300,"remaining":700,"resetSeconds":18}""", tenant.GetProperty("tokens").GetRawText());
        Assert.Equal("""{"qwen-chat":0}""", tenant.GetProperty("waitingByService").GetRawText());
        Assert.Equal(RejectionReasons.All, tenant.GetProperty("rejected").EnumerateObject().Select(p => p.Name));
        Assert.DoesNotContain(TenantDirectory.Hash(ChatKey), json.RootElement.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(ChatKey, json.RootElement.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_TenantWithoutLimits_WritesNulls()
    {
        using var json = Written(TenantStatus.Read(Batch, null, _queues, _metrics));

        Assert.Equal("""{"requestsPerMinute":null,"tokensPerMinute":null,"maxConcurrent":null}""", json.RootElement.GetProperty("limits").GetRawText());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("requests").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("tokens").ValueKind);
        Assert.Equal(("sheddable", "onPremOnly"), (json.RootElement.GetProperty("class").GetString(), json.RootElement.GetProperty("residency").GetString()));
    }

    [Fact]
    public void Listed_WithKeys_IsTheConfiguredTenants_WithoutKeys_AnonymousToo()
    {
        Assert.Equal(["chat", "batch"], TenantStatus.Listed(Directory).Select(t => t.Name));

        var open = new TenantDirectory(new GatewayOptions { Tenants = [new TenantOptions { Name = "chat" }] });
        Assert.Equal(["chat", "anonymous"], TenantStatus.Listed(open).Select(t => t.Name));
        Assert.Same(Tenant.Anonymous, TenantStatus.Listed(open)[1]);
    }

    private static JsonDocument Written(TenantStatus status)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            status.Write(writer);
        }

        return JsonDocument.Parse(buffer.ToArray());
    }
}

using Gateway.Configuration;
using Gateway.Model;
using Gateway.Tenancy;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Tenancy;

/// <summary>
/// The three limits together. Requests per minute run on System.Threading.RateLimiting's token bucket, whose refill
/// follows the system clock and cannot be faked: these tests only use what holds before its first refill (30 s away at
/// 2 requests a minute); tokens per minute run on the fake clock.
/// </summary>
public sealed class TenantLimiterTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }

    private TenantLimiter Limiter(int? rpm = null, int? tpm = null, int? concurrent = null)
    {
        var limiter = new TenantLimiter(
            new Tenant(new TenantOptions
            {
                Name = "chat",
                Limits = new TenantLimitsOptions { RequestsPerMinute = rpm, TokensPerMinute = tpm, MaxConcurrent = concurrent },
            }),
            _time);
        _owned.Add(limiter);
        return limiter;
    }

    private TenantLease Admitted(TenantLimiter limiter, long tokens)
    {
        var lease = limiter.TryAcquire(tokens, out var rejection);
        Assert.True(lease is not null, $"rejected: {rejection}");
        _owned.Add(lease);
        return lease;
    }

    [Fact]
    public void TryAcquire_OverRequestsPerMinute_RejectsWithTheTimeOfTheNextRefill()
    {
        var limiter = Limiter(rpm: 2);
        Admitted(limiter, 10);
        Admitted(limiter, 10);

        Assert.Null(limiter.TryAcquire(10, out var rejection));

        // Two a minute: one back every 30 s; both back, the bucket full again, in a minute.
        Assert.Equal(new LimitRejection(TenantLimit.Requests, 2, 0, TimeSpan.FromSeconds(30)), rejection);
        Assert.Equal(new RateLimitState(2, 0, TimeSpan.FromMinutes(1)), limiter.Requests);
        Assert.Null(limiter.Tokens);
    }

    [Theory]
    [InlineData(60, 1, 1)]
    [InlineData(90, 2, 1.333_333_3)]
    [InlineData(6000, 100, 1)]
    public void Requests_RefillAWholeNumberEverySecondOrMore_AtTheExactRate(int rpm, int perRefill, double seconds)
    {
        var limiter = Limiter(rpm: rpm);
        Admitted(limiter, 0);

        var state = limiter.Requests!.Value;

        Assert.Equal((rpm, rpm - 1L), (state.Limit, state.Remaining));
        Assert.Equal(seconds, state.Reset.TotalSeconds, precision: 6);
        Assert.Equal(rpm / 60.0, perRefill / seconds, precision: 4);
    }

    [Fact]
    public void TryAcquire_OverMaxConcurrent_RejectsUntilALeaseEnds()
    {
        var limiter = Limiter(concurrent: 1);
        var first = Admitted(limiter, 0);

        Assert.Null(limiter.TryAcquire(0, out var rejection));
        Assert.Equal(TenantLimit.Concurrency, rejection.Limit);
        Assert.Equal(1, rejection.Value);

        first.Dispose();
        Admitted(limiter, 0);
    }

    [Fact]
    public void TryAcquire_OverTokensPerMinute_RejectsAndGivesTheConcurrentRequestBack()
    {
        var limiter = Limiter(tpm: 120, concurrent: 2);
        Admitted(limiter, 100);

        Assert.Null(limiter.TryAcquire(50, out var rejection));

        // 20 left, 2 a second: 15 s until there are 50.
        Assert.Equal(new LimitRejection(TenantLimit.Tokens, 120, 50, TimeSpan.FromSeconds(15)), rejection);
        Assert.Equal(new RateLimitState(120, 20, TimeSpan.FromSeconds(50)), limiter.Tokens);
        Admitted(limiter, 20);
    }

    [Fact]
    public void TryAcquire_OverRequestsPerMinuteLast_GivesTheTokensAndTheConcurrentRequestBack()
    {
        var limiter = Limiter(rpm: 1, tpm: 120, concurrent: 2);
        Admitted(limiter, 100);

        Assert.Null(limiter.TryAcquire(20, out var rejection));

        Assert.Equal(TenantLimit.Requests, rejection.Limit);
        Assert.Equal(20L, limiter.Tokens!.Value.Remaining);
    }

    [Fact]
    public void Lease_Settled_ChargesTheUsageOnce_Refunded_ChargesNothing()
    {
        var limiter = Limiter(tpm: 600);
        var used = Admitted(limiter, 200);
        var failed = Admitted(limiter, 100);

        used.Settle(30);
        used.Settle(30);
        failed.Refund();

        Assert.Equal(570L, limiter.Tokens!.Value.Remaining);
    }

    [Fact]
    public void Lease_NeitherSettledNorRefunded_KeepsItsReservation()
    {
        var limiter = Limiter(tpm: 600, concurrent: 1);
        var lease = Admitted(limiter, 200);

        lease.Dispose();

        Assert.Equal(400L, limiter.Tokens!.Value.Remaining);
    }

    [Fact]
    public void TenantLimiters_OnlyConfiguredTenantsWithALimit_HaveOne()
    {
        var directory = new TenantDirectory(new GatewayOptions
        {
            Auth = new AuthOptions { Mode = AuthMode.ApiKeys },
            Tenants =
            [
                new TenantOptions { Name = "chat", ApiKeyHashes = [TenantDirectory.Hash("sk-chat")], Limits = new TenantLimitsOptions { MaxConcurrent = 4 } },
                new TenantOptions { Name = "batch", ApiKeyHashes = [TenantDirectory.Hash("sk-batch")] },
            ],
        });
        using var limiters = new TenantLimiters(directory, _time);

        Assert.Equal("chat", limiters.For(directory.Tenants[0])?.Tenant.Name);
        Assert.Null(limiters.For(directory.Tenants[1]));
        Assert.Null(limiters.For(Tenant.Anonymous));
    }
}

using Gateway.Tenancy;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Tenancy;

public sealed class TokenBudgetTests
{
    private readonly FakeTimeProvider _time = new();

    // 600 tokens per minute: 10 a second, so every figure below is exact.
    private TokenBudget Budget() => new(600, _time);

    [Fact]
    public void Read_New_IsFull()
    {
        Assert.Equal((600L, TimeSpan.Zero), Budget().Read());
    }

    [Fact]
    public void TryReserve_WhatIsThere_TakesIt_AndTheBucketRefillsTenASecond()
    {
        var budget = Budget();

        Assert.True(budget.TryReserve(250, out var reserved, out _));

        Assert.Equal(250, reserved);
        Assert.Equal((350L, TimeSpan.FromSeconds(25)), budget.Read());
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal((400L, TimeSpan.FromSeconds(20)), budget.Read());
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal((600L, TimeSpan.Zero), budget.Read());
    }

    [Fact]
    public void TryReserve_MoreThanIsThere_TakesNothingAndSaysWhenItWillBe()
    {
        var budget = Budget();
        Assert.True(budget.TryReserve(500, out _, out _));

        Assert.False(budget.TryReserve(130, out var reserved, out var retryAfter));

        Assert.Equal(130, reserved);
        Assert.Equal(TimeSpan.FromSeconds(3), retryAfter);
        Assert.Equal(100L, budget.Read().Remaining);
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.True(budget.TryReserve(130, out _, out _));
    }

    [Fact]
    public void TryReserve_MoreThanTheLimit_WaitsForAFullBucketAndTakesTheLimit()
    {
        var budget = Budget();
        Assert.True(budget.TryReserve(1, out _, out _));

        Assert.False(budget.TryReserve(5000, out var reserved, out var retryAfter));
        Assert.Equal((600, TimeSpan.FromSeconds(0.1)), (reserved, retryAfter));

        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(budget.TryReserve(5000, out reserved, out _));
        Assert.Equal(600, reserved);
        Assert.Equal(0L, budget.Read().Remaining);
    }

    [Fact]
    public void Settle_UsedLessThanReserved_GivesTheRestBack()
    {
        var budget = Budget();
        Assert.True(budget.TryReserve(300, out var reserved, out _));

        budget.Settle(reserved, used: 120);

        Assert.Equal(480L, budget.Read().Remaining);
    }

    [Fact]
    public void Settle_UsedMoreThanThereWas_LeavesADebtTheNextRequestsWaitOut()
    {
        var budget = Budget();
        Assert.True(budget.TryReserve(500, out var reserved, out _));

        budget.Settle(reserved, used: 800);

        // 600 - 800 = -200: nothing left, and a minute and 20 s until the bucket is full.
        Assert.Equal((0L, TimeSpan.FromSeconds(80)), budget.Read());
        Assert.False(budget.TryReserve(10, out _, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(21), retryAfter);
    }

    [Fact]
    public void Settle_NeverFillsPastTheLimit()
    {
        var budget = Budget();
        Assert.True(budget.TryReserve(100, out var reserved, out _));
        _time.Advance(TimeSpan.FromSeconds(30));

        budget.Settle(reserved, used: 0);

        Assert.Equal((600L, TimeSpan.Zero), budget.Read());
    }
}

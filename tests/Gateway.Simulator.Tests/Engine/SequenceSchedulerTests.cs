using Gateway.Simulator.Engine;
using Gateway.Simulator.Options;

namespace Gateway.Simulator.Tests.Engine;

public sealed class SequenceSchedulerTests
{
    private static SequenceScheduler Scheduler(int maxNumSeqs = 1, int maxWaiting = 10) =>
        new(new SimulatorOptions { MaxNumSeqs = maxNumSeqs, MaxWaitingQueueLength = maxWaiting, KvCacheSize = 10, BlockSize = 4 });

    [Fact]
    public void Admit_UnderMaxNumSeqs_RunsAtOnce()
    {
        var scheduler = Scheduler(maxNumSeqs: 2);

        var first = scheduler.Admit(CancellationToken.None);
        var second = scheduler.Admit(CancellationToken.None);

        Assert.False(first.IsWaiting);
        Assert.False(second.IsWaiting);
        Assert.Equal(2, scheduler.Running);
        Assert.Equal(0, scheduler.Waiting);
    }

    [Fact]
    public async Task Release_HandsTheSlotToTheOldestWaiter()
    {
        var scheduler = Scheduler();
        scheduler.Admit(CancellationToken.None);
        var first = scheduler.Admit(CancellationToken.None).WaitAsync().AsTask();
        var second = scheduler.Admit(CancellationToken.None).WaitAsync().AsTask();

        scheduler.Release(0);
        await first;

        Assert.False(second.IsCompleted);
        Assert.Equal(1, scheduler.Running);
        Assert.Equal(1, scheduler.Waiting);
        scheduler.Release(0);
        await second;
        scheduler.Release(0);
        Assert.Equal(0, scheduler.Running);
    }

    [Fact]
    public void Admit_WaitingQueueFull_Rejects()
    {
        var scheduler = Scheduler(maxWaiting: 1);
        scheduler.Admit(CancellationToken.None);
        scheduler.Admit(CancellationToken.None);

        Assert.True(scheduler.Admit(CancellationToken.None).IsRejected);
        Assert.Equal(1, scheduler.Waiting);
    }

    [Fact]
    public async Task CancelledWaiter_LeavesTheQueueAndNeverTakesASlot()
    {
        var scheduler = Scheduler();
        scheduler.Admit(CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var cancelled = scheduler.Admit(cancel.Token).WaitAsync().AsTask();
        var next = scheduler.Admit(CancellationToken.None).WaitAsync().AsTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(1, scheduler.Waiting);
        scheduler.Release(0);
        await next;
        Assert.Equal(0, scheduler.Waiting);
        Assert.Equal(1, scheduler.Running);
    }

    [Fact]
    public void HoldTokens_CountsWholeBlocks()
    {
        var scheduler = Scheduler();

        scheduler.HoldTokens(0, 5);
        Assert.Equal(0.2, scheduler.KvCacheUsage);
        scheduler.HoldTokens(5, 8);
        Assert.Equal(0.2, scheduler.KvCacheUsage);
        scheduler.HoldTokens(8, 9);
        Assert.Equal(0.3, scheduler.KvCacheUsage);
        scheduler.Admit(CancellationToken.None);
        scheduler.Release(9);
        Assert.Equal(0, scheduler.KvCacheUsage);
    }
}

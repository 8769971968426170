using Gateway.Configuration;
using Gateway.Model;
using Gateway.Telemetry;

namespace Gateway.Tests.Telemetry;

/// <summary>The request path's side of the request log: the hand-off never waits, never allocates, and counts what it drops.</summary>
public sealed class RequestLogTests
{
    private static readonly RequestLogEntry Entry = new()
    {
        Time = new DateTimeOffset(2026, 12, 4, 1, 51, 35, TimeSpan.Zero),
        Service = "qwen-chat",
        Tenant = Tenant.Anonymous,
        Kind = InferenceTelemetry.ChatOperation,
        Stream = true,
        RequestBytes = 300,
        PromptTokens = 20,
        CompletionTokens = 30,
        Pool = "on-prem",
        Attempts = 1,
        QueueWait = TimeSpan.Zero,
        TimeToFirstToken = TimeSpan.FromMilliseconds(40),
        Duration = TimeSpan.FromMilliseconds(400),
        Status = 200,
    };

    private readonly GatewayMetrics _metrics = new(TestTopology.Build(TestTopology.Options(TestTopology.Service(TestTopology.Pool("on-prem", 0, 4, "http://10.0.0.1:8000")))), TimeProvider.System);

    private RequestLog On(int capacity) => new(new RequestLogOptions { Path = "requests.jsonl", QueueCapacity = capacity }, _metrics);

    [Fact]
    public void Add_LogOff_QueuesNothing()
    {
        var log = new RequestLog(new RequestLogOptions(), _metrics);

        log.Add(Entry);

        Assert.False(log.IsOn);
        Assert.Throws<InvalidOperationException>(() => log.Reader);
        Assert.Equal(0, _metrics.RequestLogDropped.Value);
    }

    [Fact]
    public void Add_QueueFull_DropsTheLineAndCountsIt_WithoutWaiting()
    {
        var log = On(capacity: 2);

        for (var i = 0; i < 5; i++)
        {
            log.Add(Entry);
        }

        Assert.Equal(3, _metrics.RequestLogDropped.Value);
        Assert.True(log.Reader.TryRead(out var first));
        Assert.Equal(Entry.Time, first.Time);
        Assert.True(log.Reader.TryRead(out _));
        Assert.False(log.Reader.TryRead(out _));
    }

    [Fact]
    public void Add_AfterTheWriterStopped_CountsTheLineAsDropped()
    {
        var log = On(capacity: 10);
        log.Complete();

        log.Add(Entry);

        Assert.Equal(1, _metrics.RequestLogDropped.Value);
    }

    [Fact]
    public void Add_LogOff_AllocatesNothing()
    {
        var log = new RequestLog(new RequestLogOptions(), _metrics);
        log.Add(Entry);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            log.Add(Entry);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Add_LogOn_AllocatesNothing_QueuedOrDropped()
    {
        var log = On(capacity: 1000);

        // The queue's buffer grows to its size once, and the counter's series is made at its first drop; from then on a
        // line only takes a place in the queue, or adds 1 to the counter.
        for (var i = 0; i < 1001; i++)
        {
            log.Add(Entry);
        }

        while (log.Reader.TryRead(out _))
        {
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1500; i++)
        {
            log.Add(Entry);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(501, _metrics.RequestLogDropped.Value);
    }
}

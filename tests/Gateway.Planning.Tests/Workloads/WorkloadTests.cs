using Gateway.Requests;
using Gateway.Configuration;

namespace Gateway.Planning.Tests.Workloads;

public sealed class WorkloadTests
{
    private static readonly TraceRequest Request = new(TimeSpan.Zero, null, null, PriorityClass.Standard, RequestKind.Chat, 8, 10, 10, false);

    [Fact]
    public void OpenLoop_Duration_IsTheLastArrival()
    {
        var workload = new OpenLoopWorkload([Request, Request with { ArrivalOffset = TimeSpan.FromSeconds(3) }]);

        Assert.Equal(TimeSpan.FromSeconds(3), workload.Duration);
        Assert.Equal(TimeSpan.Zero, new OpenLoopWorkload([]).Duration);
    }

    [Fact]
    public void OpenLoop_Unsorted_IsRefusedNamingTheRequest()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            new OpenLoopWorkload([Request with { ArrivalOffset = TimeSpan.FromSeconds(2) }, Request with { ArrivalOffset = TimeSpan.FromSeconds(1) }]));

        Assert.StartsWith("request 1 arrives at 00:00:01, before", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 60, 0)]
    [InlineData(1, 0, 0)]
    [InlineData(1, 60, -1)]
    public void ClosedLoop_OutOfRange_IsRefused(int clients, int seconds, int thinkMs)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new ClosedLoopWorkload(clients, TimeSpan.FromSeconds(seconds), Request, TimeSpan.FromMilliseconds(thinkMs)));
    }

    [Fact]
    public void Workload_Kinds_AreTellableApartByPatternMatching()
    {
        Workload[] workloads = [new OpenLoopWorkload([Request]), new ClosedLoopWorkload(5, TimeSpan.FromMinutes(2), Request, TimeSpan.Zero)];

        var described = workloads.Select(w => w switch
        {
            OpenLoopWorkload open => $"open {open.Requests.Count}",
            ClosedLoopWorkload closed => $"closed {closed.Clients}",
            _ => "other",
        });

        Assert.Equal(["open 1", "closed 5"], described);
    }
}

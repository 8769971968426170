using Gateway.Admission;
using Gateway.Model;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Model;

/// <summary>
/// The health state machine on its own. Times come from a fake clock, read as the monitor reads them (elapsed
/// since its start), so every back-off is checked to the tick.
/// </summary>
public sealed class ReplicaHealthTests
{
    // Out after two failures in a row; probes every second; back-off 1, 2, 4, then capped at 8 seconds.
    private static readonly HealthPolicy Policy = new(
        ProbeInterval: TimeSpan.FromSeconds(1), ProbeTimeout: TimeSpan.FromSeconds(1), UnhealthyAfterFailures: 2, MaxBackoff: TimeSpan.FromSeconds(8));

    private readonly FakeTimeProvider _time = new();
    private readonly long _origin;

    public ReplicaHealthTests() => _origin = _time.GetTimestamp();

    private TimeSpan Now => _time.GetElapsedTime(_origin);

    private InferenceService? _service;

    private Replica NewReplica()
    {
        _service = OnePool(capacity: 1, _time);
        return Add(_service.OnPrem(), "http://10.0.0.1:8000");
    }

    private TimeSpan NextProbeIn(Replica replica) => replica.Health.NextProbeAt - Now;

    [Fact]
    public void NewReplica_IsHealthyAndProbedAtOnce()
    {
        var replica = NewReplica();

        Assert.True(replica.IsHealthy);
        Assert.True(replica.Health.IsProbeDue(Now));
    }

    [Fact]
    public void ProbeFailed_BelowThreshold_StaysHealthyAndIsProbedAgainAfterTheInterval()
    {
        var replica = NewReplica();

        Assert.Equal(HealthChange.None, replica.Health.ProbeFailed(Now, Policy));

        Assert.True(replica.IsHealthy);
        Assert.Equal(1, replica.Health.Failures);
        Assert.Equal(TimeSpan.FromSeconds(1), NextProbeIn(replica));
        Assert.False(replica.Health.IsProbeDue(Now + TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(1)));
        Assert.True(replica.Health.IsProbeDue(Now + TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void ProbeFailed_ThresholdReached_TakesTheReplicaOutOfPlacement()
    {
        var replica = NewReplica();
        var service = _service!;
        replica.Health.ProbeFailed(Now, Policy);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(HealthChange.TakenOut, replica.Health.ProbeFailed(Now, Policy));

        Assert.False(replica.IsHealthy);
        Assert.Null(service.Placement.TryReserve(service, Tenant.Anonymous));
        Assert.Equal(0, replica.InFlight);
        Assert.Equal(TimeSpan.FromSeconds(1), NextProbeIn(replica));
    }

    [Fact]
    public void ProbeFailed_WhileUnhealthy_BackOffDoublesUpToTheMaximum()
    {
        var replica = NewReplica();
        replica.Health.ProbeFailed(Now, Policy);
        replica.Health.ProbeFailed(Now, Policy);

        var waits = new List<double> { NextProbeIn(replica).TotalSeconds };
        for (var i = 0; i < 5; i++)
        {
            _time.Advance(NextProbeIn(replica));
            Assert.Equal(HealthChange.None, replica.Health.ProbeFailed(Now, Policy));
            waits.Add(NextProbeIn(replica).TotalSeconds);
        }

        Assert.Equal([1, 2, 4, 8, 8, 8], waits);
        Assert.False(replica.IsHealthy);
        Assert.Equal(7, replica.Health.Failures);
    }

    [Fact]
    public async Task ProbeSucceeded_WhileUnhealthy_BringsTheReplicaBackAndWakesTheQueue()
    {
        var replica = NewReplica();
        var service = _service!;
        replica.Health.ProbeFailed(Now, Policy);
        replica.Health.ProbeFailed(Now, Policy);
        var waiting = service.Queue.AcquireAsync(Tenant.Anonymous, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(HealthChange.Recovered, replica.Health.ProbeSucceeded(Now, Policy));

        Assert.True(replica.IsHealthy);
        Assert.Equal(0, replica.Health.Failures);
        Assert.Equal(TimeSpan.FromSeconds(1), NextProbeIn(replica));
        Assert.Equal(new AdmissionOutcome(replica, AdmissionFailure.None, TimeSpan.FromSeconds(1)), await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void TrafficFailed_ThresholdReached_TakesTheReplicaOutAtOnce()
    {
        var replica = NewReplica();

        Assert.Equal(HealthChange.None, replica.Health.TrafficFailed(Now, Policy));
        Assert.True(replica.IsHealthy);
        Assert.Equal(HealthChange.TakenOut, replica.Health.TrafficFailed(Now, Policy));

        Assert.False(replica.IsHealthy);
        Assert.Equal(TimeSpan.FromSeconds(1), NextProbeIn(replica));
    }

    [Fact]
    public void TrafficSucceeded_BetweenFailures_KeepsTheReplicaIn()
    {
        var replica = NewReplica();

        replica.Health.TrafficFailed(Now, Policy);
        replica.Health.TrafficSucceeded();
        Assert.Equal(HealthChange.None, replica.Health.TrafficFailed(Now, Policy));

        Assert.True(replica.IsHealthy);
        Assert.Equal(1, replica.Health.Failures);
    }

    [Fact]
    public void ProbeSucceeded_BetweenFailures_ClearsTheCount()
    {
        var replica = NewReplica();

        replica.Health.TrafficFailed(Now, Policy);
        replica.Health.ProbeSucceeded(Now, Policy);
        Assert.Equal(HealthChange.None, replica.Health.TrafficFailed(Now, Policy));

        Assert.True(replica.IsHealthy);
    }

    [Fact]
    public void TakenOutAgainSoonAfterComingBack_BackOffKeepsGrowing()
    {
        // A replica whose /health says 200 while every request it gets fails: each time it is let back, it is out longer.
        var replica = NewReplica();
        var waits = new List<double>();
        for (var round = 0; round < 5; round++)
        {
            replica.Health.TrafficFailed(Now, Policy);
            Assert.Equal(HealthChange.TakenOut, replica.Health.TrafficFailed(Now, Policy));
            waits.Add(NextProbeIn(replica).TotalSeconds);
            _time.Advance(NextProbeIn(replica));
            Assert.Equal(HealthChange.Recovered, replica.Health.ProbeSucceeded(Now, Policy));
        }

        Assert.Equal([1, 2, 4, 8, 8], waits);
    }

    [Fact]
    public void HealthyForTheMaximumBackOff_StrikesAreForgotten()
    {
        var replica = NewReplica();
        replica.Health.TrafficFailed(Now, Policy);
        replica.Health.TrafficFailed(Now, Policy);
        _time.Advance(TimeSpan.FromSeconds(1));
        replica.Health.ProbeFailed(Now, Policy);
        _time.Advance(TimeSpan.FromSeconds(2));
        replica.Health.ProbeSucceeded(Now, Policy);
        Assert.Equal(2, replica.Health.Strikes);

        // A probe just short of 8 s of health keeps the strikes; the one at 8 s clears them.
        _time.Advance(TimeSpan.FromSeconds(8) - TimeSpan.FromTicks(1));
        replica.Health.ProbeSucceeded(Now, Policy);
        Assert.Equal(2, replica.Health.Strikes);
        _time.Advance(TimeSpan.FromTicks(1));
        replica.Health.ProbeSucceeded(Now, Policy);
        Assert.Equal(0, replica.Health.Strikes);

        replica.Health.TrafficFailed(Now, Policy);
        replica.Health.TrafficFailed(Now, Policy);
        Assert.Equal(TimeSpan.FromSeconds(1), NextProbeIn(replica));
    }

    [Fact]
    public void TrafficFailed_WhileUnhealthy_DoesNotMoveTheNextProbe()
    {
        var replica = NewReplica();
        replica.Health.TrafficFailed(Now, Policy);
        replica.Health.TrafficFailed(Now, Policy);
        var due = replica.Health.NextProbeAt;

        _time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal(HealthChange.None, replica.Health.TrafficFailed(Now, Policy));

        Assert.Equal(due, replica.Health.NextProbeAt);
        Assert.Equal(3, replica.Health.Failures);
    }

    [Fact]
    public void Backoff_DayLongIntervalAfterManyStrikes_IsCappedWithoutOverflow()
    {
        var policy = new HealthPolicy(TimeSpan.FromDays(1), TimeSpan.FromSeconds(1), 1, TimeSpan.FromDays(1));

        Assert.Equal(TimeSpan.FromDays(1), policy.Backoff(30));
    }
}

using System.Globalization;
using Gateway.Testing;

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// <c>stall</c>: SIGSTOP of the on-prem replica for the fault's window, then SIGCONT, as a replica frozen by a GC pause,
/// a hung driver or a live migration. Its connections stay open and its requests wait (the gateway's first-byte timeout is
/// far longer); its health probes time out, so it is taken out and new requests go elsewhere; after SIGCONT its requests
/// finish and a probe lets it back. None should fail.
/// </summary>
internal sealed class StallPhase : ChaosPhase
{
    public override string Name => "stall";

    public override string LoadNote => "plain only, as in kill: the fault is on-prem's, and streams cut by it are mid-stream-kill's";

    public override async Task<Injection> InjectAsync(PhaseRun run, CancellationToken cancellationToken)
    {
        var victim = await run.OnPremReplicaAsync(inFlight: 1, cancellationToken);
        var pid = victim.Pid!.Value;
        var at = run.Now;
        if (!await ProcessSignals.SendAsync(pid, "STOP"))
        {
            throw new InvalidOperationException($"could not stop {victim.Id} (pid {pid})");
        }

        double endedAt;
        run.Log($"SIGSTOP {victim.Id} (pid {pid}, {victim.InFlight} in flight)");
        try
        {
            await Task.Delay(run.Settings.Fault, cancellationToken);
        }
        finally
        {
            // Whatever happens to the drill, the replica is not left frozen: a stopped process would not even stop on SIGTERM.
            await ProcessSignals.SendAsync(pid, "CONT");
            endedAt = run.Now;
            run.Log($"SIGCONT {victim.Id}");
        }

        var takenOutAt = run.Watch.FirstAt(run.OnPremPool, at, r => r.Id == victim.Id && !r.Healthy);
        var backAt = takenOutAt is null ? null : run.Watch.FirstAt(run.OnPremPool, takenOutAt.Value, r => r.Id == victim.Id && r.Healthy);
        return new Injection(
            string.Create(CultureInfo.InvariantCulture, $"SIGSTOP {victim.Id} (pid {pid}, {victim.InFlight} in flight) for {run.Settings.FaultSeconds:0.#} s, then SIGCONT"),
            Math.Round(at, 3),
            Math.Round(endedAt, 3),
            new Dictionary<string, object?>
            {
                ["stoppedReplica"] = victim.Id,
                ["stoppedPid"] = pid,
                ["inFlightOnItWhenStopped"] = victim.InFlight,
                ["takenOutAfterSeconds"] = takenOutAt is { } t ? Math.Round(t - at, 3) : null,
                ["healthyAgainAfterSigcontSeconds"] = backAt is { } b ? Math.Round(b - endedAt, 3) : null,
                ["samePidAfter"] = run.Watch.Pids(run.OnPremPool).Count == 1,
            });
    }
}

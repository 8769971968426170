using Gateway.Testing;

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// <c>mid-stream-kill</c>: SIGKILL of the on-prem replica while it streams. A stream past its first byte cannot be placed
/// again; the gateway must end it with an error event and <c>data: [DONE]</c> (a clean error, cut mid-answer), never a
/// cut connection. Streams not yet started on it are placed again like kill's plain requests.
/// </summary>
internal sealed class MidStreamKillPhase : ChaosPhase
{
    /// <summary>About 1.5 s of tokens at the demo's pace, so a stream on the replica is most likely mid-answer when it dies.</summary>
    public const int StreamTokens = 40;

    public override string Name => "mid-stream-kill";

    public override ClientPlan Client(int index) => new(Streamed: true, StreamTokens);

    public override string LoadNote => "streamed only, max_tokens 40 (about 1.5 s a stream), so the replica dies with streams mid-answer";

    public override async Task<Injection> InjectAsync(PhaseRun run, CancellationToken cancellationToken)
    {
        // Every slot busy: both streams on it are under way (the first token comes 0.2 s into a 1.5 s stream).
        var victim = await run.OnPremReplicaAsync(inFlight: run.Layout.OnPrem.First().CapacityPerReplica, cancellationToken);
        var pid = victim.Pid!.Value;
        var at = run.Now;
        if (!await ProcessSignals.SendAsync(pid, "KILL"))
        {
            throw new InvalidOperationException($"could not kill {victim.Id} (pid {pid})");
        }

        run.Log($"SIGKILL {victim.Id} (pid {pid}, {victim.InFlight} streams on it)");
        await Task.Delay(run.Settings.Fault, cancellationToken);
        await KillPhase.WaitForReplacementAsync(run, pid, cancellationToken);
        return new Injection($"SIGKILL {victim.Id} (pid {pid}) with {victim.InFlight} streams on it", Math.Round(at, 3), Math.Round(at, 3),
            KillPhase.ReplacementEvidence(run, victim.Id, pid, victim.InFlight, at));
    }
}

using Gateway.Testing;

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// <c>kill</c>: SIGKILL of the on-prem replica while it serves, as a crash or an OOM kill would. The requests on it and
/// those sent to it before the gateway notices fail before any byte reached their client, so the gateway places them
/// again (on the cloud, or on the replacement the Process provider starts); none should fail.
/// </summary>
internal sealed class KillPhase : ChaosPhase
{
    public override string Name => "kill";

    public override string LoadNote =>
        "plain only: a plain answer comes whole at its end, so every request on the dead replica can be placed again; streams past their first byte cannot, and are the mid-stream-kill phase's";

    public override async Task<Injection> InjectAsync(PhaseRun run, CancellationToken cancellationToken)
    {
        var victim = await run.OnPremReplicaAsync(inFlight: 1, cancellationToken);
        var pid = victim.Pid!.Value;
        var at = run.Now;
        if (!await ProcessSignals.SendAsync(pid, "KILL"))
        {
            throw new InvalidOperationException($"could not kill {victim.Id} (pid {pid})");
        }

        run.Log($"SIGKILL {victim.Id} (pid {pid}, {victim.InFlight} in flight)");
        await Task.Delay(run.Settings.Fault, cancellationToken);
        await WaitForReplacementAsync(run, pid, cancellationToken);
        return new Injection($"SIGKILL {victim.Id} (pid {pid}, {victim.InFlight} in flight)", Math.Round(at, 3), Math.Round(at, 3),
            ReplacementEvidence(run, victim.Id, pid, victim.InFlight, at));
    }

    /// <summary>
    /// Holds the load until the Process provider's replacement of <paramref name="pid"/> is ready, if it is not yet (a
    /// loaded machine starts a process slowly), up to the queue's deadline, so the phase sees the recovery it is about.
    /// </summary>
    public static async Task WaitForReplacementAsync(PhaseRun run, int pid, CancellationToken cancellationToken)
    {
        if (await run.Watch.WaitForAsync(run.OnPremPool, r => r.State == "ready" && r.Pid is { } other && other != pid, TimeSpan.FromSeconds(30), cancellationToken) is null)
        {
            run.Log($"no replacement of pid {pid} ready within 30 s");
        }
    }

    /// <summary>What a kill left behind: the killed replica, and when a replacement with another pid was ready in its pool.</summary>
    public static Dictionary<string, object?> ReplacementEvidence(PhaseRun run, string replica, int pid, int inFlight, double killedAt)
    {
        var replacedAt = run.Watch.FirstAt(run.OnPremPool, killedAt, r => r.State == "ready" && r.Pid is { } other && other != pid);
        var replacement = replacedAt is null ? null
            : run.Watch.Views.First(v => v.At == replacedAt).Replicas.First(r => r.Pool == run.OnPremPool && r.State == "ready" && r.Pid != pid);
        return new Dictionary<string, object?>
        {
            ["killedReplica"] = replica,
            ["killedPid"] = pid,
            ["inFlightOnItWhenKilled"] = inFlight,
            ["replacementPid"] = replacement?.Pid,
            ["replacementReadyAfterSeconds"] = replacedAt is { } t ? Math.Round(t - killedAt, 3) : null,
        };
    }
}

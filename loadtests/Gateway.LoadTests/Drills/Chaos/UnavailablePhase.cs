using System.Globalization;
using Gateway.LoadTests.Targets;

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// <c>503</c>: the on-prem replica answers every request 503 for the fault's window while its <c>/health</c> stays 200 (an
/// overloaded or sick vLLM, alive to its probes), through the simulator's failure control. The gateway holds each 503
/// back and places the request again elsewhere within its queue deadline; none should fail.
/// </summary>
internal sealed class UnavailablePhase : ChaosPhase
{
    public override string Name => "503";

    public override string LoadNote => "plain only, as in kill";

    /// <summary>The on-prem replica is started with the simulator's failure control (its last argument, appended).</summary>
    public override Task<PhaseSetup> SetUpAsync(string configPath, ChaosSettings settings, bool isShort, CancellationToken cancellationToken) =>
        Task.FromResult(new PhaseSetup(configPath, [Repository.AppendOnPremArgument(configPath, SimulatorFailureControl.Flag)]));

    public override async Task<Injection> InjectAsync(PhaseRun run, CancellationToken cancellationToken)
    {
        var victim = await run.OnPremReplicaAsync(inFlight: 0, cancellationToken);
        using var control = LoadClient.Create(TimeSpan.FromSeconds(10));
        var at = run.Now;
        await SimulatorFailureControl.SetUnavailableAsync(control, victim.Address, 100, cancellationToken);
        run.Log($"{victim.Id} answers 503");
        double endedAt;
        try
        {
            await Task.Delay(run.Settings.Fault, cancellationToken);
        }
        finally
        {
            await SimulatorFailureControl.SetUnavailableAsync(control, victim.Address, 0, CancellationToken.None);
            endedAt = run.Now;
            run.Log($"{victim.Id} answers again");
        }

        var takenOutAt = run.Watch.FirstAt(run.OnPremPool, at, r => r.Id == victim.Id && !r.Healthy);
        return new Injection(
            string.Create(CultureInfo.InvariantCulture, $"{victim.Id} answers 503 to every request for {run.Settings.FaultSeconds:0.#} s, /health 200"),
            Math.Round(at, 3),
            Math.Round(endedAt, 3),
            new Dictionary<string, object?>
            {
                ["sickReplica"] = victim.Id,
                ["takenOutAfterSeconds"] = takenOutAt is { } t ? Math.Round(t - at, 3) : null,
                ["samePidAfter"] = run.Watch.Pids(run.OnPremPool).Count == 1,
            });
    }
}

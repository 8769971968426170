namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// One fault of the chaos drill, run against a gateway of its own under the same closed loop: its name, what its
/// clients send, the configuration it needs beyond the demo's, and the fault itself, injected after the steady load and
/// held through its window. The drill keeps the load going through a recovery window afterwards and counts every request.
/// </summary>
internal abstract class ChaosPhase
{
    /// <summary>The phase's name on the command line and in the report.</summary>
    public abstract string Name { get; }

    /// <summary>What client <paramref name="index"/> sends: plain requests with the seed's body unless a phase says otherwise.</summary>
    public virtual ClientPlan Client(int index) => ClientPlan.Plain;

    /// <summary>Why the phase runs the load it runs, for the report.</summary>
    public abstract string LoadNote { get; }

    /// <summary>The configuration of the phase's gateway: by default the given one, unchanged.</summary>
    public virtual Task<PhaseSetup> SetUpAsync(string configPath, ChaosSettings settings, bool isShort, CancellationToken cancellationToken) =>
        Task.FromResult(new PhaseSetup(configPath, []));

    /// <summary>Injects the fault and holds it through its window; returns what was done, when, and what was seen of it.</summary>
    public abstract Task<Injection> InjectAsync(PhaseRun run, CancellationToken cancellationToken);
}

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// What a phase's gateway starts with: a configuration file (the demo's, or one derived from it), extra overrides, and
/// whatever the phase runs beside the gateway (a webhook receiver and its replicas), stopped after the gateway.
/// </summary>
internal sealed record PhaseSetup(string ConfigPath, IReadOnlyList<string> Overrides, IAsyncDisposable? Resources = null);

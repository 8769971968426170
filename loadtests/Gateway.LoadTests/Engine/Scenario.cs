namespace Gateway.LoadTests.Engine;

/// <summary>
/// A named step run over and over by the load simulation (NBomber's <c>Scenario.Create(name, step)</c>). The step
/// sends one request, reads its answer to the end and says how it went. Its token is the drill's own (Ctrl+C), not
/// the end of the simulation: a request started before the end is answered and counted.
/// </summary>
internal sealed record Scenario(string Name, Func<CancellationToken, Task<StepResult>> Step);

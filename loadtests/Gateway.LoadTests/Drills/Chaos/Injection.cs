namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// The fault a phase injected: what (<paramref name="What"/>), when it began and ended in seconds from the load's start
/// (equal for an instant fault such as a kill), and what the phase saw of it (<paramref name="Evidence"/>: a killed pid,
/// the replica's replacement, failed webhook calls, the gateway's exit code...).
/// </summary>
internal sealed record Injection(string What, double At, double EndedAt, IReadOnlyDictionary<string, object?> Evidence);

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>One request of a phase: whether it was streamed, when it started and ended (seconds from the load's start), and its verdict.</summary>
internal sealed record RequestRecord(bool Streamed, double StartedAt, double EndedAt, Verdict Verdict);

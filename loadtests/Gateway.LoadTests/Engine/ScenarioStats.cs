namespace Gateway.LoadTests.Engine;

/// <summary>What a scenario did under one load simulation (NBomber's scenario stats): counts, rate, latency, TTFT.</summary>
internal sealed record ScenarioStats(
    string Scenario,
    string Load,
    double DurationSeconds,
    long Ok,
    long Failed,
    IReadOnlyDictionary<string, long> ByStatus,
    double RequestsPerSecond,
    Percentiles LatencyMs,
    Percentiles FirstTokenMs);

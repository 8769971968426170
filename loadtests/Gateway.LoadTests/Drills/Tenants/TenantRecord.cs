using Gateway.LoadTests.Drills.Chaos;

namespace Gateway.LoadTests.Drills.Tenants;

/// <summary>
/// One request of a tenant: when it started and ended (seconds from the phase's origin), its time to the first token
/// with text in milliseconds (a completed stream only), and what became of it.
/// </summary>
internal sealed record TenantRecord(string Tenant, double StartedAt, double EndedAt, double? FirstTokenMs, Verdict Verdict);

using System.Text.Json;

namespace Gateway.LoadTests.Targets;

/// <summary>
/// One replica as the gateway's <c>/admin/status</c> shows it: its pool, state, health, in-flight count, what it served,
/// and the process id of a replica the gateway started itself.
/// </summary>
internal sealed record ReplicaView(string Id, string Pool, Uri Address, string State, bool Healthy, int InFlight, int Capacity, long Served, int? Pid)
{
    /// <summary>Every replica of every pool of <paramref name="service"/>.</summary>
    public static async Task<IReadOnlyList<ReplicaView>> ReadAsync(HttpClient admin, string service, CancellationToken cancellationToken)
    {
        using var status = JsonDocument.Parse(await admin.GetStringAsync(new Uri("admin/status", UriKind.Relative), cancellationToken));
        var replicas = new List<ReplicaView>();
        foreach (var s in status.RootElement.GetProperty("services").EnumerateArray())
        {
            if (s.GetProperty("name").GetString() != service)
            {
                continue;
            }

            foreach (var pool in s.GetProperty("pools").EnumerateArray())
            {
                var name = pool.GetProperty("name").GetString()!;
                foreach (var r in pool.GetProperty("replicas").EnumerateArray())
                {
                    replicas.Add(new ReplicaView(
                        r.GetProperty("id").GetString()!,
                        name,
                        new Uri(r.GetProperty("address").GetString()! + "/"),
                        r.GetProperty("state").GetString()!,
                        r.GetProperty("healthy").GetBoolean(),
                        r.GetProperty("inFlight").GetInt32(),
                        r.GetProperty("capacity").GetInt32(),
                        r.GetProperty("served").GetInt64(),
                        r.TryGetProperty("pid", out var pid) ? pid.GetInt32() : null));
                }
            }
        }

        return replicas;
    }
}

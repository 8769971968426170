using System.Text.Json;

namespace Gateway.IntegrationTests.Support;

/// <summary>What <c>/admin/status</c> says about the (first) service: its queue and every replica by id.</summary>
internal sealed record GatewayStatus(bool Ready, int QueueDepth, IReadOnlyDictionary<string, ReplicaStatus> Replicas)
{
    /// <summary>A replica by id, e.g. <c>on-prem-1</c>.</summary>
    public ReplicaStatus this[string id] => Replicas[id];

    public static GatewayStatus Read(JsonElement root)
    {
        var service = root.GetProperty("services")[0];
        var replicas = new Dictionary<string, ReplicaStatus>(StringComparer.Ordinal);
        foreach (var pool in service.GetProperty("pools").EnumerateArray())
        {
            foreach (var replica in pool.GetProperty("replicas").EnumerateArray())
            {
                var id = replica.GetProperty("id").GetString()!;
                ReplicaLoadStatus? load = null;
                if (replica.TryGetProperty("load", out var scraped))
                {
                    load = new ReplicaLoadStatus(
                        scraped.GetProperty("running").GetInt32(),
                        scraped.GetProperty("waiting").GetInt32(),
                        scraped.GetProperty("othersInFlight").GetInt32(),
                        scraped.GetProperty("saturated").GetBoolean());
                }

                replicas[id] = new ReplicaStatus(
                    id,
                    pool.GetProperty("name").GetString()!,
                    replica.GetProperty("state").GetString()!,
                    replica.GetProperty("healthy").GetBoolean(),
                    replica.GetProperty("inFlight").GetInt32(),
                    replica.GetProperty("peakInFlight").GetInt32(),
                    replica.GetProperty("served").GetInt64(),
                    load,
                    replica.GetProperty("address").GetString()!);
            }
        }

        return new GatewayStatus(root.GetProperty("ready").GetBoolean(), service.GetProperty("queueDepth").GetInt32(), replicas);
    }
}

/// <summary>The gateway's own counters for one replica, its health, and its last scraped load (null: unknown).</summary>
internal sealed record ReplicaStatus(
    string Id, string Pool, string State, bool Healthy, int InFlight, int PeakInFlight, long Served, ReplicaLoadStatus? Load = null, string Address = "");

/// <summary>A replica's load as the gateway last scraped it from vLLM's <c>/metrics</c>.</summary>
internal sealed record ReplicaLoadStatus(int Running, int Waiting, int OthersInFlight, bool Saturated);

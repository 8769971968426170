using System.Text.Json;
using Gateway.Admission;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Telemetry;
using Gateway.Tenancy;

namespace Gateway.Admin;

/// <summary>
/// The gateway's own recent past, for <c>/admin/history</c> and the dashboard: one sample a second (the
/// <see cref="StatusSampler"/> takes them) for the last fifteen minutes, so a screen opened in the middle of a peak
/// shows how it came about without a Prometheus. A sample holds, per service, its demand, in flight and waiting and the
/// requests served on-prem and in the cloud in the second before; per pool, in flight, ready replicas, ready slots and
/// requests served; per tenant, in flight and waiting. The services, pools and tenants are those of the configuration,
/// so every sample has the same numbers in the same places: a <see cref="SampleRing"/> of fixed size holds them.
/// </summary>
internal sealed class StatusHistory
{
    /// <summary>Time between two samples.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>Samples kept: fifteen minutes of one a second.</summary>
    public const int Capacity = 900;

    // The numbers of one sample, in this order: per service (then its pools), then per tenant.
    private const int ServiceWidth = 5;
    private const int PoolWidth = 4;
    private const int TenantWidth = 2;

    private readonly GatewayTopology _topology;
    private readonly ServiceQueues _queues;
    private readonly TimeProvider _time;
    private readonly IReadOnlyList<Tenant> _tenants;
    private readonly GatewayMetrics.TenantInstruments[] _tenantInstruments;
    private readonly GatewayMetrics.PoolInstruments[][] _poolInstruments;
    private readonly long[][] _answered;
    private readonly int[] _row;
    private readonly Lock _sampling = new();

    /// <summary>The history of <paramref name="topology"/>'s services and pools and of <paramref name="directory"/>'s tenants, empty.</summary>
    public StatusHistory(GatewayTopology topology, TenantDirectory directory, ServiceQueues queues, GatewayMetrics metrics, TimeProvider time)
    {
        _topology = topology;
        _queues = queues;
        _time = time;
        _tenants = TenantStatus.Listed(directory);
        _tenantInstruments = [.. _tenants.Select(metrics.Tenant)];
        _poolInstruments = [.. topology.Services.Select(s => s.Pools.Select(p => metrics.Pool(s.Name, p.Name)).ToArray())];

        // Served counts are differences of the pools' counters from one sample to the next, starting from what they say now.
        _answered = [.. _poolInstruments.Select(pools => pools.Select(p => p.AnsweredSoFar()).ToArray())];
        var width = (_tenants.Count * TenantWidth) + topology.Services.Sum(s => ServiceWidth + (s.Pools.Count * PoolWidth));
        _row = new int[width];
        Samples = new SampleRing(Capacity, width);
    }

    /// <summary>The samples.</summary>
    public SampleRing Samples { get; }

    /// <summary>Takes a sample of the live model, queues and metrics now, and keeps it in place of the oldest.</summary>
    public void Sample()
    {
        lock (_sampling)
        {
            var row = _row.AsSpan();
            var at = 0;
            foreach (var service in _topology.Services)
            {
                var serviceAt = at;
                at += ServiceWidth;
                var (inFlight, servedOnPrem, servedCloud) = (0, 0, 0);
                for (var p = 0; p < service.Pools.Count; p++)
                {
                    var pool = service.Pools[p];
                    var (poolInFlight, ready, slots) = (0, 0, 0);
                    foreach (var replica in pool.Replicas)
                    {
                        poolInFlight += replica.InFlight;
                        if (replica.State == ReplicaState.Ready)
                        {
                            ready++;
                            slots += replica.Capacity;
                        }
                    }

                    var answered = _poolInstruments[service.Index][p].AnsweredSoFar();
                    var served = (int)(answered - _answered[service.Index][p]);
                    _answered[service.Index][p] = answered;
                    if (pool.Location == PoolLocation.OnPrem)
                    {
                        servedOnPrem += served;
                    }
                    else
                    {
                        servedCloud += served;
                    }

                    inFlight += poolInFlight;
                    row[at++] = poolInFlight;
                    row[at++] = ready;
                    row[at++] = slots;
                    row[at++] = served;
                }

                var waiting = service.Waiting;
                row[serviceAt] = inFlight + waiting;
                row[serviceAt + 1] = inFlight;
                row[serviceAt + 2] = waiting;
                row[serviceAt + 3] = servedOnPrem;
                row[serviceAt + 4] = servedCloud;
            }

            for (var t = 0; t < _tenants.Count; t++)
            {
                var waiting = 0;
                foreach (var queue in _queues.All)
                {
                    waiting += queue.WaitingOf(_tenants[t]);
                }

                row[at++] = (int)_tenantInstruments[t].InFlight.Value;
                row[at++] = waiting;
            }

            Samples.Add(_time.GetUtcNow().ToUnixTimeMilliseconds(), row);
        }
    }

    /// <summary>
    /// Writes the samples taken after <paramref name="after"/> (Unix milliseconds; all of them when null), oldest first,
    /// each with its services, their pools and the tenants by name.
    /// </summary>
    public void Write(Utf8JsonWriter json, long? after)
    {
        var (times, values) = Samples.Read(after ?? long.MinValue);
        json.WriteStartObject();
        json.WriteNumber("intervalSeconds"u8, Interval.TotalSeconds);
        json.WriteNumber("capacity"u8, Capacity);
        json.WriteStartArray("services"u8);
        foreach (var service in _topology.Services)
        {
            json.WriteStartObject();
            json.WriteString("name"u8, service.Name);
            json.WriteStartArray("pools"u8);
            foreach (var pool in service.Pools)
            {
                json.WriteStartObject();
                json.WriteString("name"u8, pool.Name);
                json.WriteString("location"u8, LocationLabel(pool.Location));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("tenants"u8);
        foreach (var tenant in _tenants)
        {
            json.WriteStringValue(tenant.Name);
        }

        json.WriteEndArray();
        json.WriteStartArray("samples"u8);
        for (var i = 0; i < times.Length; i++)
        {
            WriteSample(json, times[i], values.AsSpan(i * Samples.Width, Samples.Width));
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>The <c>location</c> value of <paramref name="location"/>: <c>onPrem</c> or <c>cloud</c>.</summary>
    public static string LocationLabel(PoolLocation location) => location == PoolLocation.OnPrem ? "onPrem" : "cloud";

    private void WriteSample(Utf8JsonWriter json, long at, ReadOnlySpan<int> row)
    {
        json.WriteStartObject();
        json.WriteNumber("at"u8, at);
        json.WriteStartObject("services"u8);
        var i = 0;
        foreach (var service in _topology.Services)
        {
            json.WriteStartObject(service.Name);
            json.WriteNumber("demand"u8, row[i]);
            json.WriteNumber("inFlight"u8, row[i + 1]);
            json.WriteNumber("waiting"u8, row[i + 2]);
            json.WriteNumber("servedOnPrem"u8, row[i + 3]);
            json.WriteNumber("servedCloud"u8, row[i + 4]);
            i += ServiceWidth;
            json.WriteStartObject("pools"u8);
            foreach (var pool in service.Pools)
            {
                json.WriteStartObject(pool.Name);
                json.WriteNumber("inFlight"u8, row[i]);
                json.WriteNumber("readyReplicas"u8, row[i + 1]);
                json.WriteNumber("capacity"u8, row[i + 2]);
                json.WriteNumber("served"u8, row[i + 3]);
                json.WriteEndObject();
                i += PoolWidth;
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteStartObject("tenants"u8);
        foreach (var tenant in _tenants)
        {
            json.WriteStartObject(tenant.Name);
            json.WriteNumber("inFlight"u8, row[i]);
            json.WriteNumber("waiting"u8, row[i + 1]);
            json.WriteEndObject();
            i += TenantWidth;
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }
}

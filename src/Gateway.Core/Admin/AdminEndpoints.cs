using System.Globalization;
using System.Text.Json;
using Gateway.Admission;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers;
using Gateway.Telemetry;
using Gateway.Tenancy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Prometheus;

namespace Gateway.Admin;

/// <summary>
/// The admin listener's routes: <c>/healthz</c> (the process runs), <c>/readyz</c> (every pool has its
/// minimum of ready replicas), <c>/admin/status</c> (services, pools, replicas with their scraped load, queues, and
/// tenants against their limits, as JSON) and <c>/admin/history</c> (the last fifteen minutes of
/// <see cref="StatusHistory"/> samples). With an <see cref="AdminToken"/>, every route but the kubelet's probes (and <c>/metrics</c> unless
/// <see cref="Configuration.AdminOptions.ProtectMetrics"/>) answers only a request that carries it.
/// </summary>
internal static class AdminEndpoints
{
    private static readonly PathString Healthz = new("/healthz");
    private static readonly PathString Readyz = new("/readyz");
    private static readonly PathString Metrics = new("/metrics");

    /// <summary>Builds the admin listener's pipeline: the token check when there is a token, then the routes.</summary>
    public static void Build(IApplicationBuilder admin, AdminToken? token, bool protectMetrics)
    {
        if (token is not null)
        {
            // Everything not explicitly open is checked, so a route added later is protected by default.
            admin.Use((context, next) => IsOpen(context.Request.Path, protectMetrics) ? next(context) : token.AuthorizeAsync(context, next));
        }

        admin.UseRouting();
        admin.UseEndpoints(Map);
    }

    /// <summary>Whether <paramref name="path"/> answers without the token: the probes, and the metrics unless protected.</summary>
    public static bool IsOpen(PathString path, bool protectMetrics) =>
        path.Equals(Healthz) || path.Equals(Readyz) || (!protectMetrics && path.Equals(Metrics));

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", static context => WriteTextAsync(context.Response, 200, "ok"));
        endpoints.MapGet("/readyz", static context =>
        {
            var topology = context.RequestServices.GetRequiredService<GatewayTopology>();
            var notReady = context.RequestServices.GetRequiredService<ServiceQueues>().IsClosed
                ? "not ready: draining for shutdown"
                : Readiness.Check(topology, context.RequestServices.GetRequiredService<ReplicaProviders>().All);
            return notReady is null
                ? WriteTextAsync(context.Response, 200, "ready")
                : WriteTextAsync(context.Response, 503, notReady);
        });
        endpoints.MapMetrics(Metrics, endpoints.ServiceProvider.GetRequiredService<GatewayMetrics>().Registry);
        endpoints.MapGet("/admin/status", static context =>
        {
            var services = context.RequestServices;
            var queues = services.GetRequiredService<ServiceQueues>();
            var metrics = services.GetRequiredService<GatewayMetrics>();
            var tenants = TenantStatus.ReadAll(
                services.GetRequiredService<TenantDirectory>(), services.GetRequiredService<TenantLimiters>(), queues, metrics);
            return WriteStatusAsync(
                context.Response,
                services.GetRequiredService<GatewayTopology>(),
                queues,
                services.GetRequiredService<ReplicaProviders>(),
                metrics,
                services.GetRequiredService<CostMeter>(),
                tenants);
        });
        endpoints.MapGet("/admin/history", static context => WriteHistoryAsync(context, context.RequestServices.GetRequiredService<StatusHistory>()));
        DashboardEndpoint.Map(endpoints);
    }

    private static async Task WriteTextAsync(HttpResponse response, int status, string text)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        await response.WriteAsync(text + "\n");
    }

    /// <summary>
    /// <c>GET /admin/history</c>: every sample kept, or with <c>?after=</c> Unix milliseconds only the newer ones, so a page
    /// that has the history asks for a few samples each time.
    /// </summary>
    private static async Task WriteHistoryAsync(HttpContext context, StatusHistory history)
    {
        long? after = null;
        if (context.Request.Query.TryGetValue("after", out var value))
        {
            if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                await WriteTextAsync(context.Response, 400, "after: Unix milliseconds expected");
                return;
            }

            after = parsed;
        }

        var response = context.Response;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        using (var json = new Utf8JsonWriter(response.BodyWriter))
        {
            history.Write(json, after);
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private static async Task WriteStatusAsync(
        HttpResponse response,
        GatewayTopology topology,
        ServiceQueues queues,
        ReplicaProviders providers,
        GatewayMetrics metrics,
        CostMeter cost,
        IReadOnlyList<TenantStatus> tenants)
    {
        response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(response.BodyWriter, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteBoolean("ready"u8, Readiness.Check(topology, providers.All) is null);
            json.WriteStartArray("services"u8);
            foreach (var service in topology.Services)
            {
                json.WriteStartObject();
                json.WriteString("name"u8, service.Name);
                json.WriteString("namespace"u8, service.Namespace);
                json.WriteString("balancing"u8, queues[service].Placement.Name);
                json.WriteStartArray("models"u8);
                foreach (var model in service.Models)
                {
                    json.WriteStringValue(model);
                }

                json.WriteEndArray();
                var queued = service.Waiting;
                var inFlight = 0;
                foreach (var pool in service.Pools)
                {
                    foreach (var replica in pool.Replicas)
                    {
                        inFlight += replica.InFlight;
                    }
                }

                json.WriteNumber("queueDepth"u8, queued);
                json.WriteStartObject("queueByClass"u8);
                foreach (var priority in Enum.GetValues<PriorityClass>())
                {
                    json.WriteNumber(GatewayMetrics.ClassLabel(priority), service.WaitingIn(priority));
                }

                json.WriteEndObject();
                json.WriteNumber("inFlight"u8, inFlight);
                json.WriteNumber("demand"u8, inFlight + queued);
                if (cost.Budget(service) is { } budget)
                {
                    json.WriteStartObject("budget"u8);
                    json.WriteNumber("maxPerHour"u8, budget.MaxPerHour);
                    json.WriteNumber("spentLastHour"u8, budget.SpentLastHour);
                    json.WriteBoolean("spent"u8, budget.Spent);
                    json.WriteEndObject();
                }
                else
                {
                    json.WriteNull("budget"u8);
                }

                json.WriteStartArray("pools"u8);
                foreach (var pool in service.Pools)
                {
                    WritePool(json, pool, cost.Read(pool));
                }

                json.WriteEndArray();
                json.WriteStartArray("scaleEvents"u8);
                foreach (var scale in metrics.RecentScaleEvents())
                {
                    if (scale.Service != service.Name)
                    {
                        continue;
                    }

                    json.WriteStartObject();
                    json.WriteString("at"u8, scale.At);
                    json.WriteString("pool"u8, scale.Pool);
                    json.WriteString("direction"u8, scale.Direction);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("tenants"u8);
            foreach (var tenant in tenants)
            {
                tenant.Write(json);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync();
    }

    private static void WritePool(Utf8JsonWriter json, Pool pool, PoolCostStatus cost)
    {
        json.WriteStartObject();
        json.WriteString("name"u8, pool.Name);
        json.WriteNumber("priority"u8, pool.Priority);
        json.WriteString("location"u8, StatusHistory.LocationLabel(pool.Location));
        json.WriteString("role"u8, pool.Role switch { PoolRole.Bridge => "bridge"u8, PoolRole.Overflow => "overflow"u8, _ => "gpu"u8 });
        json.WriteNumber("capacityPerReplica"u8, pool.CapacityPerReplica);
        json.WriteNumber("minReplicas"u8, pool.MinReplicas);
        if (pool.MaxReplicas is { } max)
        {
            json.WriteNumber("maxReplicas"u8, max);
        }
        else
        {
            json.WriteNull("maxReplicas"u8);
        }
        json.WriteNumber("readyReplicas"u8, pool.ReadyCount);
        json.WriteNumber("desiredReplicas"u8, pool.DesiredReplicas);
        json.WriteStartObject("cost"u8);
        json.WriteNumber("total"u8, cost.Total);
        json.WriteNumber("lastHour"u8, cost.LastHour);
        json.WriteNumber("perHour"u8, cost.PerHour);
        json.WriteEndObject();
        if (cost.ReplicaSeconds is { } replicaSeconds)
        {
            json.WriteNumber("replicaSeconds"u8, replicaSeconds);
        }
        else
        {
            json.WriteNull("replicaSeconds"u8);
        }

        json.WriteStartArray("replicas"u8);
        foreach (var replica in pool.Replicas)
        {
            json.WriteStartObject();
            json.WriteString("id"u8, replica.Id);
            json.WriteString("address"u8, replica.DestinationPrefix);
            json.WriteString("state"u8, replica.State.ToString().ToLowerInvariant());
            json.WriteBoolean("healthy"u8, replica.IsHealthy);
            json.WriteNumber("inFlight"u8, replica.InFlight);
            json.WriteNumber("peakInFlight"u8, replica.PeakInFlight);
            json.WriteNumber("capacity"u8, replica.Capacity);
            json.WriteNumber("served"u8, replica.Served);
            if (replica.ProcessId is { } pid)
            {
                json.WriteNumber("pid"u8, pid);
            }

            if (replica.Load is { } load)
            {
                json.WriteStartObject("load"u8);
                json.WriteNumber("running"u8, load.Running);
                json.WriteNumber("waiting"u8, load.Waiting);
                json.WriteNumber("kvCacheUsage"u8, load.KvCacheUsage);
                json.WriteNumber("othersInFlight"u8, load.OthersInFlight);
                json.WriteBoolean("saturated"u8, load.Saturated);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}

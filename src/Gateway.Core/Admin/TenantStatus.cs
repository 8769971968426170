using System.Text.Json;
using Gateway.Admission;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Telemetry;
using Gateway.Tenancy;

namespace Gateway.Admin;

/// <summary>
/// One tenant as <c>/admin/status</c> shows it: who it is (name, class, residency), its limits, where it stands against
/// them now, what it has in flight and waiting in each service's queue, and what it has been served and refused so far.
/// Read from the live limiters, queues and metrics; never its keys or their hashes.
/// </summary>
internal sealed record TenantStatus(
    string Name,
    PriorityClass Priority,
    Residency Residency,
    int? RequestsPerMinute,
    int? TokensPerMinute,
    int? MaxConcurrent,
    RateLimitState? Requests,
    RateLimitState? Tokens,
    int InFlight,
    IReadOnlyList<(string Service, int Waiting)> WaitingByService,
    long Served,
    IReadOnlyList<(string Reason, long Count)> Rejected)
{
    /// <summary>Requests waiting in every service's queue.</summary>
    public int Waiting
    {
        get
        {
            var waiting = 0;
            foreach (var (_, count) in WaitingByService)
            {
                waiting += count;
            }

            return waiting;
        }
    }

    /// <summary>
    /// The tenants a request can come from, in configuration order: the configured ones, then <see cref="Tenant.Anonymous"/>
    /// when the gateway asks for no key.
    /// </summary>
    public static IReadOnlyList<Tenant> Listed(TenantDirectory directory) =>
        directory.RequiresKey ? directory.Tenants : [.. directory.Tenants, Tenant.Anonymous];

    /// <summary>Reads every tenant of <paramref name="directory"/> (see <see cref="Listed"/>) now.</summary>
    public static IReadOnlyList<TenantStatus> ReadAll(TenantDirectory directory, TenantLimiters limiters, ServiceQueues queues, GatewayMetrics metrics)
    {
        var tenants = Listed(directory);
        var all = new TenantStatus[tenants.Count];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = Read(tenants[i], limiters.For(tenants[i]), queues, metrics);
        }

        return all;
    }

    /// <summary>Reads <paramref name="tenant"/> now, with its <paramref name="limiter"/> (null: it has no limits).</summary>
    public static TenantStatus Read(Tenant tenant, TenantLimiter? limiter, ServiceQueues queues, GatewayMetrics metrics)
    {
        var limits = tenant.Options.Limits;
        var waiting = new (string, int)[queues.All.Count];
        for (var i = 0; i < waiting.Length; i++)
        {
            var queue = queues.All[i];
            waiting[i] = (queue.Service.Name, queue.WaitingOf(tenant));
        }

        var instruments = metrics.Tenant(tenant);
        var rejected = new (string, long)[RejectionReasons.All.Count];
        for (var i = 0; i < rejected.Length; i++)
        {
            var reason = RejectionReasons.All[i];
            rejected[i] = (reason, instruments.RejectedSoFar(reason));
        }

        return new TenantStatus(
            tenant.Name,
            tenant.Priority,
            tenant.Residency,
            limits.RequestsPerMinute,
            limits.TokensPerMinute,
            limits.MaxConcurrent,
            limiter?.Requests,
            limiter?.Tokens,
            (int)instruments.InFlight.Value,
            waiting,
            instruments.ServedSoFar(),
            rejected);
    }

    /// <summary>The <c>residency</c> value of <paramref name="residency"/>: <c>any</c> or <c>onPremOnly</c>, as configured but camel-cased.</summary>
    public static string ResidencyLabel(Residency residency) => residency == Residency.OnPremOnly ? "onPremOnly" : "any";

    /// <summary>Writes the tenant as one JSON object.</summary>
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("name"u8, Name);
        json.WriteString("class"u8, GatewayMetrics.ClassLabel(Priority));
        json.WriteString("residency"u8, ResidencyLabel(Residency));
        json.WriteStartObject("limits"u8);
        WriteLimit(json, "requestsPerMinute"u8, RequestsPerMinute);
        WriteLimit(json, "tokensPerMinute"u8, TokensPerMinute);
        WriteLimit(json, "maxConcurrent"u8, MaxConcurrent);
        json.WriteEndObject();
        WriteRate(json, "requests"u8, Requests);
        WriteRate(json, "tokens"u8, Tokens);
        json.WriteNumber("inFlight"u8, InFlight);
        json.WriteNumber("waiting"u8, Waiting);
        json.WriteStartObject("waitingByService"u8);
        foreach (var (service, waiting) in WaitingByService)
        {
            json.WriteNumber(service, waiting);
        }

        json.WriteEndObject();
        json.WriteNumber("served"u8, Served);
        json.WriteStartObject("rejected"u8);
        foreach (var (reason, count) in Rejected)
        {
            json.WriteNumber(reason, count);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteLimit(Utf8JsonWriter json, ReadOnlySpan<byte> name, int? limit)
    {
        if (limit is { } value)
        {
            json.WriteNumber(name, value);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    // Used is what the window has taken: the limit less what is left (a tokens bucket in debt shows the whole limit used).
    private static void WriteRate(Utf8JsonWriter json, ReadOnlySpan<byte> name, RateLimitState? rate)
    {
        if (rate is not { } state)
        {
            json.WriteNull(name);
            return;
        }

        json.WriteStartObject(name);
        json.WriteNumber("used"u8, state.Limit - state.Remaining);
        json.WriteNumber("remaining"u8, state.Remaining);
        json.WriteNumber("resetSeconds"u8, Math.Round(state.Reset.TotalSeconds, 3));
        json.WriteEndObject();
    }
}

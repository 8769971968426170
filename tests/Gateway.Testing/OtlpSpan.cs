namespace Gateway.Testing;

/// <summary>
/// One span an OTLP exporter sent, decoded by <see cref="OtlpDecoder.ReadTraces"/>. Ids are lowercase hex, as
/// <see cref="System.Diagnostics.ActivityTraceId.ToHexString"/> writes them; <see cref="ParentSpanId"/> is null for a root span.
/// </summary>
/// <param name="TraceId">The trace's 16-byte id in hex.</param>
/// <param name="SpanId">The span's 8-byte id in hex.</param>
/// <param name="ParentSpanId">The parent's 8-byte id in hex; null for a root span.</param>
/// <param name="Name">The span's name.</param>
/// <param name="Kind">Server, client, internal...</param>
/// <param name="StartTimeUnixNano">Start, in nanoseconds since 1970.</param>
/// <param name="EndTimeUnixNano">End, in nanoseconds since 1970.</param>
/// <param name="Attributes">Attributes by key: string, bool, long, double, byte[], object?[] or a nested dictionary.</param>
/// <param name="Events">Its events, in order.</param>
/// <param name="StatusCode">Unset, ok or error.</param>
/// <param name="StatusMessage">The status's description, empty when none.</param>
/// <param name="ServiceName">The <c>service.name</c> attribute of the resource that sent it; null when missing.</param>
/// <param name="ScopeName">The instrumentation scope (for .NET, the <see cref="System.Diagnostics.ActivitySource"/>'s name).</param>
public sealed record OtlpSpan(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    OtlpSpanKind Kind,
    ulong StartTimeUnixNano,
    ulong EndTimeUnixNano,
    IReadOnlyDictionary<string, object?> Attributes,
    IReadOnlyList<OtlpSpanEvent> Events,
    OtlpStatusCode StatusCode,
    string StatusMessage,
    string? ServiceName,
    string ScopeName)
{
    /// <summary>The span's length.</summary>
    public TimeSpan Duration => TimeSpan.FromTicks((long)((EndTimeUnixNano - StartTimeUnixNano) / 100));

    /// <summary>For failure messages: who sent it, its name, kind, ids and attributes.</summary>
    public override string ToString() =>
        $"{ServiceName}/{ScopeName} {Name} ({Kind}, {StatusCode}) trace {TraceId} span {SpanId} parent {ParentSpanId ?? "none"} "
        + "{" + string.Join(", ", Attributes.Select(a => $"{a.Key}={a.Value}")) + "}";
}

/// <summary>An event on an <see cref="OtlpSpan"/>.</summary>
/// <param name="Name">The event's name.</param>
/// <param name="TimeUnixNano">When, in nanoseconds since 1970.</param>
/// <param name="Attributes">Its attributes by key, typed as on <see cref="OtlpSpan.Attributes"/>.</param>
public sealed record OtlpSpanEvent(string Name, ulong TimeUnixNano, IReadOnlyDictionary<string, object?> Attributes);

/// <summary>OTLP's <c>Span.SpanKind</c>, with its numbers.</summary>
public enum OtlpSpanKind
{
    /// <summary>Not set.</summary>
    Unspecified = 0,

    /// <summary>An operation inside one service.</summary>
    Internal = 1,

    /// <summary>The handling of a request a service received.</summary>
    Server = 2,

    /// <summary>A request a service sent.</summary>
    Client = 3,

    /// <summary>A message handed to a broker.</summary>
    Producer = 4,

    /// <summary>A message taken from a broker.</summary>
    Consumer = 5,
}

/// <summary>OTLP's <c>Status.StatusCode</c>, with its numbers.</summary>
public enum OtlpStatusCode
{
    /// <summary>No status was set.</summary>
    Unset = 0,

    /// <summary>Marked as a success.</summary>
    Ok = 1,

    /// <summary>Marked as failed.</summary>
    Error = 2,
}

using System.Globalization;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Model;

namespace Gateway.Telemetry;

/// <summary>
/// One line of the request log: what a replay of the request needs (when it came, whose it was, what it asked for) and
/// what became of it (where it ran, how long it waited and took, its status). Never the prompt or the answer. A struct
/// of references the request already holds, so handing it to the <see cref="RequestLog"/> allocates nothing.
/// </summary>
internal readonly struct RequestLogEntry
{
    /// <summary>When the request arrived.</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary>The configured service it went to, or null when none answers to its host or model.</summary>
    public string? Service { get; init; }

    /// <summary>Whose it was (its name and priority class), or null when its key was no tenant's.</summary>
    public Tenant? Tenant { get; init; }

    /// <summary><see cref="InferenceTelemetry.ChatOperation"/> or <see cref="InferenceTelemetry.TextCompletionOperation"/>.</summary>
    public string Kind { get; init; }

    /// <summary>Whether it asked for a streamed answer; null when its body was never read or could not be parsed.</summary>
    public bool? Stream { get; init; }

    /// <summary>The length of its body; null when the body was never read (or was over the size limit).</summary>
    public long? RequestBytes { get; init; }

    /// <summary>The completion tokens it asked for at most, when it said.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Prompt tokens, from the answer's usage, when known.</summary>
    public long? PromptTokens { get; init; }

    /// <summary>Completion tokens, from the answer's usage, when known.</summary>
    public long? CompletionTokens { get; init; }

    /// <summary>The pool whose replica served it last, or null when it was never placed.</summary>
    public string? Pool { get; init; }

    /// <summary>Replicas tried: 0 when it was never placed.</summary>
    public int Attempts { get; init; }

    /// <summary>How long it waited in the service's queue, when it got that far.</summary>
    public TimeSpan? QueueWait { get; init; }

    /// <summary>Arrival to its first token, when one came.</summary>
    public TimeSpan? TimeToFirstToken { get; init; }

    /// <summary>Arrival to the end of its answer.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>The HTTP status it was answered with.</summary>
    public int Status { get; init; }

    /// <summary>For a request the gateway turned away itself, one of <see cref="RejectionReasons"/>; else null.</summary>
    public string? Reason { get; init; }

    /// <summary>
    /// Writes the entry as one JSON object, its fields in snake_case; a field whose value is unknown is left out. Times
    /// are milliseconds, to the microsecond; <c>time</c> is ISO 8601 in UTC, to the millisecond.
    /// </summary>
    public void WriteTo(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        Span<byte> time = stackalloc byte[32];
        Time.UtcDateTime.TryFormat(time, out var written, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        json.WriteString("time"u8, time[..written]);
        if (Service is not null)
        {
            json.WriteString("service"u8, Service);
        }

        if (Tenant is not null)
        {
            json.WriteString("tenant"u8, Tenant.Name);
            json.WriteString("priority"u8, Tenant.Priority switch
            {
                PriorityClass.Critical => "Critical"u8,
                PriorityClass.Standard => "Standard"u8,
                _ => "Sheddable"u8,
            });
        }

        json.WriteString("kind"u8, Kind);
        if (Stream is { } stream)
        {
            json.WriteBoolean("stream"u8, stream);
        }

        WriteNumber(json, "request_bytes"u8, RequestBytes);
        WriteNumber(json, "max_tokens"u8, MaxTokens);
        WriteNumber(json, "prompt_tokens"u8, PromptTokens);
        WriteNumber(json, "completion_tokens"u8, CompletionTokens);
        if (Pool is not null)
        {
            json.WriteString("pool"u8, Pool);
        }

        json.WriteNumber("attempts"u8, Attempts);
        WriteMilliseconds(json, "queue_wait_ms"u8, QueueWait);
        WriteMilliseconds(json, "ttft_ms"u8, TimeToFirstToken);
        WriteMilliseconds(json, "duration_ms"u8, Duration);
        json.WriteNumber("status"u8, Status);
        if (Reason is not null)
        {
            json.WriteString("reason"u8, Reason);
        }

        json.WriteEndObject();
    }

    private static void WriteNumber(Utf8JsonWriter json, ReadOnlySpan<byte> name, long? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
    }

    // Rounded to the microsecond, so a line carries 12.345 rather than 12.345678900000001.
    private static void WriteMilliseconds(Utf8JsonWriter json, ReadOnlySpan<byte> name, TimeSpan? value)
    {
        if (value is { } span)
        {
            json.WriteNumber(name, Math.Round(span.TotalMilliseconds, 3));
        }
    }
}

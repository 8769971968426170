using Gateway.Requests;
using System.Text.Json;
using Gateway.Configuration;

namespace Gateway.Planning;

/// <summary>
/// Reads the gateway's JSONL request log into an <see cref="OpenLoopWorkload"/>: one request per line, arriving at its
/// <c>time</c> minus the earliest <c>time</c> read. Lines are read one at a time, so a long log needs memory for its
/// requests only. Every line is an arrival, a rejected one too (its <see cref="RecordedOutcome"/> says how it ended).
/// </summary>
/// <remarks>
/// <para>
/// Fields, snake_case: <c>time</c> (ISO 8601), <c>priority</c> (a <see cref="PriorityClass"/>, any case), <c>kind</c>
/// (<c>chat</c> or <c>text_completion</c>), <c>stream</c> and <c>status</c> are required. <c>service</c>, <c>tenant</c>,
/// <c>max_tokens</c>, <c>completion_tokens</c>, <c>pool</c>, <c>ttft_ms</c> and <c>reason</c> may be absent or null.
/// <c>prompt_tokens</c> may be absent when <c>request_bytes</c> is there: a prompt is then taken as a token per 4 bytes
/// of body, the usual rule of thumb for English, rounded up. <c>attempts</c>, <c>queue_wait_ms</c> and
/// <c>duration_ms</c>, which only the recorded outcome carries, count 0 when absent. Fields not named here are skipped,
/// so a newer writer's additions do not break an older reader.
/// </para>
/// <para>
/// The completion is <c>completion_tokens</c> when the log has it; else <c>max_tokens</c>, which the simulator
/// generates exactly; else the default answer length (the simulator's <c>--default-max-tokens</c>, 64).
/// </para>
/// <para>
/// Lines are written as requests end, so they are not in order of arrival: the requests are sorted by <c>time</c>,
/// ties kept in reading order.
/// </para>
/// </remarks>
internal static class RequestLogReader
{
    /// <summary>The completion of a request whose line gives neither <c>completion_tokens</c> nor <c>max_tokens</c>: the simulator's default answer length.</summary>
    public const int DefaultCompletionTokens = 64;

    /// <summary>Reads the log at <paramref name="path"/> alone.</summary>
    /// <exception cref="FormatException">A line is not a JSON object or a field is missing or wrong; the message names the file, the line and the field.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static OpenLoopWorkload Read(string path, int defaultCompletionTokens = DefaultCompletionTokens) =>
        Read([path], defaultCompletionTokens);

    /// <summary>Reads the logs at <paramref name="paths"/> as one trace, oldest first (see <see cref="WithRotated"/>).</summary>
    /// <exception cref="FormatException">A line is not a JSON object or a field is missing or wrong; the message names the file, the line and the field.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    public static OpenLoopWorkload Read(IReadOnlyList<string> paths, int defaultCompletionTokens = DefaultCompletionTokens)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var lines = new List<Arrival>();
        foreach (var path in paths)
        {
            using var reader = new StreamReader(path);
            ReadLines(reader, path, defaultCompletionTokens, lines);
        }

        return ToWorkload(lines);
    }

    /// <summary>Reads a log from <paramref name="reader"/>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="FormatException">A line is not a JSON object or a field is missing or wrong; the message names the source, the line and the field.</exception>
    public static OpenLoopWorkload Read(TextReader reader, string source, int defaultCompletionTokens = DefaultCompletionTokens)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var lines = new List<Arrival>();
        ReadLines(reader, source, defaultCompletionTokens, lines);
        return ToWorkload(lines);
    }

    /// <summary>
    /// <paramref name="path"/> and the files rotated out of it that exist, oldest first: <c>path.N</c> … <c>path.2</c>,
    /// <c>path.1</c>, <c>path</c>, counting up from <c>path.1</c> until one is missing. The order is a tie-break only,
    /// since requests are sorted by time.
    /// </summary>
    public static IReadOnlyList<string> WithRotated(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var files = new List<string>();
        for (var n = 1; File.Exists($"{path}.{n}"); n++)
        {
            files.Add($"{path}.{n}");
        }

        files.Reverse();
        if (File.Exists(path))
        {
            files.Add(path);
        }

        return files;
    }

    private static void ReadLines(TextReader reader, string source, int defaultCompletionTokens, List<Arrival> into)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(defaultCompletionTokens, 0);
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException e)
            {
                throw new FormatException($"{source}:{number}: not JSON: {e.Message}", e);
            }

            using (document)
            {
                into.Add(new Line(document.RootElement, source, number).ToArrival(into.Count, defaultCompletionTokens));
            }
        }
    }

    private static OpenLoopWorkload ToWorkload(List<Arrival> arrivals)
    {
        arrivals.Sort();
        var requests = new TraceRequest[arrivals.Count];
        for (var i = 0; i < requests.Length; i++)
        {
            requests[i] = arrivals[i].Request with { ArrivalOffset = arrivals[i].Time - arrivals[0].Time };
        }

        return new OpenLoopWorkload(requests);
    }

    /// <summary>A request read, its arrival not yet made an offset; sorted by time, then by the order read.</summary>
    private readonly record struct Arrival(DateTimeOffset Time, int Order, TraceRequest Request) : IComparable<Arrival>
    {
        public int CompareTo(Arrival other)
        {
            var byTime = Time.CompareTo(other.Time);
            return byTime != 0 ? byTime : Order.CompareTo(other.Order);
        }
    }

    /// <summary>One line's object, with readers whose errors name the source, the line and the field.</summary>
    private readonly struct Line(JsonElement root, string source, int number)
    {
        public Arrival ToArrival(int order, int defaultCompletionTokens)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"{source}:{number}: not a JSON object");
            }

            // In the log's order of fields, so a line with several faults is reported at its first.
            var time = Time();
            var service = OptionalString("service");
            var tenant = OptionalString("tenant");
            var priority = Priority();
            var kind = Kind();
            var stream = Stream();
            var maxTokens = OptionalInt("max_tokens");
            var promptTokens = OptionalInt("prompt_tokens") ?? PromptFromBytes();
            var completionTokens = OptionalInt("completion_tokens") ?? maxTokens ?? defaultCompletionTokens;
            var pool = OptionalString("pool");
            var attempts = OptionalInt("attempts") ?? 0;
            var queueWait = OptionalMilliseconds("queue_wait_ms") ?? 0;
            var ttft = OptionalMilliseconds("ttft_ms");
            var duration = OptionalMilliseconds("duration_ms") ?? 0;
            var status = Status();
            var reason = OptionalString("reason");
            var request = new TraceRequest(TimeSpan.Zero, service, tenant, priority, kind, promptTokens, maxTokens, completionTokens, stream)
            {
                Recorded = new RecordedOutcome(
                    status,
                    reason,
                    pool,
                    attempts,
                    TimeSpan.FromMilliseconds(queueWait),
                    ttft is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
                    TimeSpan.FromMilliseconds(duration)),
            };
            return new Arrival(time, order, request);
        }

        private DateTimeOffset Time()
        {
            var value = Required("time");
            return value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var time)
                ? time
                : throw Bad("time", value, "an ISO 8601 time");
        }

        private int PromptFromBytes()
        {
            if (Optional("request_bytes") is not { } value)
            {
                throw new FormatException($"{source}:{number}: field 'prompt_tokens': missing, and no 'request_bytes' to estimate it from");
            }

            return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var bytes) && bytes >= 0
                ? (int)Math.Min(int.MaxValue, (bytes + 3) / 4)
                : throw Bad("request_bytes", value, "a whole number of at least 0");
        }

        private PriorityClass Priority()
        {
            var value = Required("priority");

            // Enum.TryParse would take "7" too: only the names.
            foreach (var priority in Enum.GetValues<PriorityClass>())
            {
                if (value.ValueKind == JsonValueKind.String && string.Equals(value.GetString(), priority.ToString(), StringComparison.OrdinalIgnoreCase))
                {
                    return priority;
                }
            }

            throw Bad("priority", value, "critical, standard or sheddable");
        }

        private RequestKind Kind()
        {
            var value = Required("kind");
            return value.ValueKind == JsonValueKind.String ? value.GetString() switch
            {
                "chat" => RequestKind.Chat,
                "text_completion" => RequestKind.Text,
                _ => throw Bad("kind", value, "chat or text_completion"),
            } : throw Bad("kind", value, "chat or text_completion");
        }

        private bool Stream()
        {
            var value = Required("stream");
            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Bad("stream", value, "true or false"),
            };
        }

        private int Status()
        {
            var value = Required("status");
            return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var status) && status is >= 100 and <= 599
                ? status
                : throw Bad("status", value, "an HTTP status from 100 to 599");
        }

        private int? OptionalInt(string field)
        {
            if (Optional(field) is not { } value)
            {
                return null;
            }

            return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= 0
                ? number
                : throw Bad(field, value, "a whole number of at least 0");
        }

        private double? OptionalMilliseconds(string field)
        {
            if (Optional(field) is not { } value)
            {
                return null;
            }

            return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var ms) && double.IsFinite(ms) && ms >= 0
                ? ms
                : throw Bad(field, value, "milliseconds, 0 or more");
        }

        private string? OptionalString(string field)
        {
            if (Optional(field) is not { } value)
            {
                return null;
            }

            return value.ValueKind == JsonValueKind.String ? value.GetString() : throw Bad(field, value, "a string");
        }

        private JsonElement Required(string field) =>
            Optional(field) ?? throw new FormatException($"{source}:{number}: field '{field}': missing");

        // Null counts as absent: a writer may write every field and null the ones it has no value for.
        private JsonElement? Optional(string field) =>
            root.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

        private FormatException Bad(string field, JsonElement value, string expected) =>
            new($"{source}:{number}: field '{field}': expected {expected}, got {value.GetRawText()}");
    }
}

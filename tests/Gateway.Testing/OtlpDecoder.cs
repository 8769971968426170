namespace Gateway.Testing;

/// <summary>
/// Decodes the protobuf bodies of OTLP/HTTP exports (<c>ExportTraceServiceRequest</c>, <c>ExportMetricsServiceRequest</c>)
/// with field numbers from opentelemetry-proto's <c>trace.proto</c>, <c>metrics.proto</c>, <c>common.proto</c> and
/// <c>resource.proto</c>. Fields a test does not look at are skipped; a malformed body throws <see cref="FormatException"/>.
/// </summary>
public static class OtlpDecoder
{
    // ExportTraceServiceRequest / ExportMetricsServiceRequest
    private const int ResourceSpansField = 1;
    private const int ResourceMetricsField = 1;

    // ResourceSpans / ResourceMetrics
    private const int ResourceField = 1;
    private const int ScopeSpansField = 2;
    private const int ScopeMetricsField = 2;

    // Resource, InstrumentationScope
    private const int ResourceAttributesField = 1;
    private const int ScopeNameField = 1;

    // ScopeSpans / ScopeMetrics
    private const int ScopeField = 1;
    private const int SpansField = 2;
    private const int MetricsField = 2;

    // Span
    private const int TraceIdField = 1;
    private const int SpanIdField = 2;
    private const int ParentSpanIdField = 4;
    private const int NameField = 5;
    private const int KindField = 6;
    private const int StartTimeField = 7;
    private const int EndTimeField = 8;
    private const int SpanAttributesField = 9;
    private const int EventsField = 11;
    private const int StatusField = 15;

    // Span.Event
    private const int EventTimeField = 1;
    private const int EventNameField = 2;
    private const int EventAttributesField = 3;

    // Status
    private const int StatusMessageField = 2;
    private const int StatusCodeField = 3;

    // Metric
    private const int MetricNameField = 1;
    private const int MetricUnitField = 3;

    // KeyValue, AnyValue, ArrayValue and KeyValueList
    private const int KeyField = 1;
    private const int ValueField = 2;
    private const int StringValueField = 1;
    private const int BoolValueField = 2;
    private const int IntValueField = 3;
    private const int DoubleValueField = 4;
    private const int ArrayValueField = 5;
    private const int KeyValueListField = 6;
    private const int BytesValueField = 7;
    private const int ValuesField = 1;

    private const string ServiceNameKey = "service.name";

    /// <summary>Every span of an <c>ExportTraceServiceRequest</c>, in the order sent.</summary>
    public static IReadOnlyList<OtlpSpan> ReadTraces(ReadOnlySpan<byte> body)
    {
        var spans = new List<OtlpSpan>();
        var reader = new ProtobufWireReader(body);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            if (field == ResourceSpansField && wireType == ProtobufWireType.LengthDelimited)
            {
                ReadResourceSpans(reader.ReadLengthDelimited(), spans);
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        return spans;
    }

    /// <summary>Every metric of an <c>ExportMetricsServiceRequest</c> (name, unit, service and scope), in the order sent.</summary>
    public static IReadOnlyList<OtlpMetric> ReadMetrics(ReadOnlySpan<byte> body)
    {
        var metrics = new List<OtlpMetric>();
        var reader = new ProtobufWireReader(body);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            if (field == ResourceMetricsField && wireType == ProtobufWireType.LengthDelimited)
            {
                ReadResourceMetrics(reader.ReadLengthDelimited(), metrics);
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        return metrics;
    }

    private static void ReadResourceSpans(ReadOnlySpan<byte> message, List<OtlpSpan> spans)
    {
        // Protobuf allows fields in any order: the resource is read first, whatever its place.
        var serviceName = ServiceNameOf(message);
        var reader = new ProtobufWireReader(message);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            if (field == ScopeSpansField && wireType == ProtobufWireType.LengthDelimited)
            {
                var scopeSpans = reader.ReadLengthDelimited();
                var scopeName = ScopeNameOf(scopeSpans);
                var scopeReader = new ProtobufWireReader(scopeSpans);
                while (scopeReader.TryReadTag(out var scopeField, out var scopeWireType))
                {
                    if (scopeField == SpansField && scopeWireType == ProtobufWireType.LengthDelimited)
                    {
                        spans.Add(ReadSpan(scopeReader.ReadLengthDelimited(), serviceName, scopeName));
                    }
                    else
                    {
                        scopeReader.Skip(scopeWireType);
                    }
                }
            }
            else
            {
                reader.Skip(wireType);
            }
        }
    }

    private static void ReadResourceMetrics(ReadOnlySpan<byte> message, List<OtlpMetric> metrics)
    {
        var serviceName = ServiceNameOf(message);
        var reader = new ProtobufWireReader(message);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            if (field == ScopeMetricsField && wireType == ProtobufWireType.LengthDelimited)
            {
                var scopeMetrics = reader.ReadLengthDelimited();
                var scopeName = ScopeNameOf(scopeMetrics);
                var scopeReader = new ProtobufWireReader(scopeMetrics);
                while (scopeReader.TryReadTag(out var scopeField, out var scopeWireType))
                {
                    if (scopeField == MetricsField && scopeWireType == ProtobufWireType.LengthDelimited)
                    {
                        metrics.Add(ReadMetric(scopeReader.ReadLengthDelimited(), serviceName, scopeName));
                    }
                    else
                    {
                        scopeReader.Skip(scopeWireType);
                    }
                }
            }
            else
            {
                reader.Skip(wireType);
            }
        }
    }

    private static string? ServiceNameOf(ReadOnlySpan<byte> resourceSpansOrMetrics)
    {
        var reader = new ProtobufWireReader(resourceSpansOrMetrics);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            if (field == ResourceField && wireType == ProtobufWireType.LengthDelimited)
            {
                var resource = new Dictionary<string, object?>(StringComparer.Ordinal);
                ReadAttributes(reader.ReadLengthDelimited(), ResourceAttributesField, resource);
                return resource.GetValueOrDefault(ServiceNameKey) as string;
            }

            reader.Skip(wireType);
        }

        return null;
    }

    private static string ScopeNameOf(ReadOnlySpan<byte> scopeSpansOrMetrics)
    {
        var reader = new ProtobufWireReader(scopeSpansOrMetrics);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            if (field == ScopeField && wireType == ProtobufWireType.LengthDelimited)
            {
                var scope = new ProtobufWireReader(reader.ReadLengthDelimited());
                while (scope.TryReadTag(out var scopeField, out var scopeWireType))
                {
                    if (scopeField == ScopeNameField && scopeWireType == ProtobufWireType.LengthDelimited)
                    {
                        return scope.ReadString();
                    }

                    scope.Skip(scopeWireType);
                }

                return "";
            }

            reader.Skip(wireType);
        }

        return "";
    }

    private static OtlpSpan ReadSpan(ReadOnlySpan<byte> message, string? serviceName, string scopeName)
    {
        string traceId = "", spanId = "", name = "", statusMessage = "";
        string? parentSpanId = null;
        var kind = OtlpSpanKind.Unspecified;
        var statusCode = OtlpStatusCode.Unset;
        ulong start = 0, end = 0;
        var attributes = new Dictionary<string, object?>(StringComparer.Ordinal);
        var events = new List<OtlpSpanEvent>();
        var reader = new ProtobufWireReader(message);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                case (TraceIdField, ProtobufWireType.LengthDelimited):
                    traceId = Convert.ToHexStringLower(reader.ReadLengthDelimited());
                    break;
                case (SpanIdField, ProtobufWireType.LengthDelimited):
                    spanId = Convert.ToHexStringLower(reader.ReadLengthDelimited());
                    break;
                case (ParentSpanIdField, ProtobufWireType.LengthDelimited):
                    var parent = reader.ReadLengthDelimited();
                    parentSpanId = parent.IsEmpty ? null : Convert.ToHexStringLower(parent);
                    break;
                case (NameField, ProtobufWireType.LengthDelimited):
                    name = reader.ReadString();
                    break;
                case (KindField, ProtobufWireType.Varint):
                    kind = (OtlpSpanKind)reader.ReadVarint();
                    break;
                case (StartTimeField, ProtobufWireType.Fixed64):
                    start = reader.ReadFixed64();
                    break;
                case (EndTimeField, ProtobufWireType.Fixed64):
                    end = reader.ReadFixed64();
                    break;
                case (SpanAttributesField, ProtobufWireType.LengthDelimited):
                    ReadKeyValue(reader.ReadLengthDelimited(), attributes);
                    break;
                case (EventsField, ProtobufWireType.LengthDelimited):
                    events.Add(ReadEvent(reader.ReadLengthDelimited()));
                    break;
                case (StatusField, ProtobufWireType.LengthDelimited):
                    (statusCode, statusMessage) = ReadStatus(reader.ReadLengthDelimited());
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        return new OtlpSpan(traceId, spanId, parentSpanId, name, kind, start, end, attributes, events, statusCode, statusMessage, serviceName, scopeName);
    }

    private static OtlpSpanEvent ReadEvent(ReadOnlySpan<byte> message)
    {
        var name = "";
        ulong time = 0;
        var attributes = new Dictionary<string, object?>(StringComparer.Ordinal);
        var reader = new ProtobufWireReader(message);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                case (EventTimeField, ProtobufWireType.Fixed64):
                    time = reader.ReadFixed64();
                    break;
                case (EventNameField, ProtobufWireType.LengthDelimited):
                    name = reader.ReadString();
                    break;
                case (EventAttributesField, ProtobufWireType.LengthDelimited):
                    ReadKeyValue(reader.ReadLengthDelimited(), attributes);
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        return new OtlpSpanEvent(name, time, attributes);
    }

    private static (OtlpStatusCode Code, string Message) ReadStatus(ReadOnlySpan<byte> message)
    {
        var code = OtlpStatusCode.Unset;
        var text = "";
        var reader = new ProtobufWireReader(message);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                case (StatusMessageField, ProtobufWireType.LengthDelimited):
                    text = reader.ReadString();
                    break;
                case (StatusCodeField, ProtobufWireType.Varint):
                    code = (OtlpStatusCode)reader.ReadVarint();
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        return (code, text);
    }

    private static OtlpMetric ReadMetric(ReadOnlySpan<byte> message, string? serviceName, string scopeName)
    {
        string name = "", unit = "";
        var reader = new ProtobufWireReader(message);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                case (MetricNameField, ProtobufWireType.LengthDelimited):
                    name = reader.ReadString();
                    break;
                case (MetricUnitField, ProtobufWireType.LengthDelimited):
                    unit = reader.ReadString();
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        return new OtlpMetric(name, unit, serviceName, scopeName);
    }

    /// <summary>Reads every <c>KeyValue</c> in field <paramref name="attributesField"/> of <paramref name="message"/>.</summary>
    private static void ReadAttributes(ReadOnlySpan<byte> message, int attributesField, Dictionary<string, object?> into)
    {
        var reader = new ProtobufWireReader(message);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            if (field == attributesField && wireType == ProtobufWireType.LengthDelimited)
            {
                ReadKeyValue(reader.ReadLengthDelimited(), into);
            }
            else
            {
                reader.Skip(wireType);
            }
        }
    }

    private static void ReadKeyValue(ReadOnlySpan<byte> message, Dictionary<string, object?> into)
    {
        var key = "";
        object? value = null;
        var reader = new ProtobufWireReader(message);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                case (KeyField, ProtobufWireType.LengthDelimited):
                    key = reader.ReadString();
                    break;
                case (ValueField, ProtobufWireType.LengthDelimited):
                    value = ReadAnyValue(reader.ReadLengthDelimited());
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        into[key] = value;
    }

    private static object? ReadAnyValue(ReadOnlySpan<byte> message)
    {
        // A oneof: the last value field present wins, as protobuf parsers do.
        object? value = null;
        var reader = new ProtobufWireReader(message);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                case (StringValueField, ProtobufWireType.LengthDelimited):
                    value = reader.ReadString();
                    break;
                case (BoolValueField, ProtobufWireType.Varint):
                    value = reader.ReadVarint() != 0;
                    break;
                case (IntValueField, ProtobufWireType.Varint):
                    value = unchecked((long)reader.ReadVarint());
                    break;
                case (DoubleValueField, ProtobufWireType.Fixed64):
                    value = BitConverter.UInt64BitsToDouble(reader.ReadFixed64());
                    break;
                case (ArrayValueField, ProtobufWireType.LengthDelimited):
                    value = ReadArray(reader.ReadLengthDelimited());
                    break;
                case (KeyValueListField, ProtobufWireType.LengthDelimited):
                    var list = new Dictionary<string, object?>(StringComparer.Ordinal);
                    ReadAttributes(reader.ReadLengthDelimited(), ValuesField, list);
                    value = list;
                    break;
                case (BytesValueField, ProtobufWireType.LengthDelimited):
                    value = reader.ReadLengthDelimited().ToArray();
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        return value;
    }

    private static object?[] ReadArray(ReadOnlySpan<byte> message)
    {
        var values = new List<object?>();
        var reader = new ProtobufWireReader(message);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            if (field == ValuesField && wireType == ProtobufWireType.LengthDelimited)
            {
                values.Add(ReadAnyValue(reader.ReadLengthDelimited()));
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        return [.. values];
    }
}

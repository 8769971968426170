using System.Text;

namespace Gateway.Load;

/// <summary>
/// One sample of a Prometheus text exposition, as <see cref="PrometheusTextReader"/> found it: spans into the
/// scraped bytes, valid until the buffer is reused.
/// </summary>
internal readonly ref struct PrometheusSample
{
    public PrometheusSample(ReadOnlySpan<byte> name, ReadOnlySpan<byte> labels, double value, long? timestamp)
    {
        Name = name;
        Labels = labels;
        Value = value;
        Timestamp = timestamp;
    }

    /// <summary>The metric name, e.g. <c>vllm:num_requests_running</c> or <c>vllm:e2e_request_latency_seconds_bucket</c>.</summary>
    public ReadOnlySpan<byte> Name { get; }

    /// <summary>The label set between the braces, as written (values still escaped); empty when there is none.</summary>
    public ReadOnlySpan<byte> Labels { get; }

    /// <summary>The value; may be NaN or infinite.</summary>
    public double Value { get; }

    /// <summary>The sample's own timestamp in milliseconds since the Unix epoch, when the exporter gave one.</summary>
    public long? Timestamp { get; }

    /// <summary>Finds a label's value, still escaped as written.</summary>
    public bool TryGetLabel(ReadOnlySpan<byte> name, out ReadOnlySpan<byte> escapedValue)
    {
        // The reader has validated the set, so each step below finds what it looks for.
        var rest = Labels;
        while (true)
        {
            rest = rest.TrimStart(" \t,"u8);
            if (rest.IsEmpty)
            {
                escapedValue = default;
                return false;
            }

            var equals = rest.IndexOf((byte)'=');
            var labelName = rest[..equals].TrimEnd(" \t"u8);
            rest = rest[(equals + 1)..].TrimStart(" \t"u8)[1..];
            var length = PrometheusTextReader.QuotedLength(rest);
            var value = rest[..length];
            rest = rest[(length + 1)..];
            if (labelName.SequenceEqual(name))
            {
                escapedValue = value;
                return true;
            }
        }
    }

    /// <summary>A label's value with its escapes undone, or null when the sample has no such label (allocates: for diagnostics and tests).</summary>
    public string? Label(string name)
    {
        if (!TryGetLabel(Encoding.UTF8.GetBytes(name), out var escaped))
        {
            return null;
        }

        var text = new StringBuilder(escaped.Length);
        var decoded = Encoding.UTF8.GetString(escaped);
        for (var i = 0; i < decoded.Length; i++)
        {
            if (decoded[i] == '\\' && i + 1 < decoded.Length)
            {
                i++;
                text.Append(decoded[i] == 'n' ? '\n' : decoded[i]);
            }
            else
            {
                text.Append(decoded[i]);
            }
        }

        return text.ToString();
    }
}

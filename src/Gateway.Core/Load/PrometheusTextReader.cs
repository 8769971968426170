using System.Globalization;
using System.Text;

namespace Gateway.Load;

/// <summary>
/// Reads the samples of a Prometheus text exposition (format 0.0.4, what vLLM's <c>/metrics</c> answers) straight
/// from its UTF-8 bytes, one line at a time, without allocating: the load scraper runs it every second for every
/// replica.
/// </summary>
/// <remarks>
/// A line is <c>name[{label="value",…}] value [timestamp]</c>; <c># HELP</c>, <c># TYPE</c> and other comments
/// and blank lines carry no sample. Label values may hold <c>\"</c>, <c>\\</c> and <c>\n</c>; values may be
/// <c>NaN</c>, <c>+Inf</c> or <c>-Inf</c>. A histogram's or summary's <c>_bucket</c>, <c>_sum</c> and
/// <c>_count</c> lines are samples like any other, under their own names. A line that breaks the format is
/// skipped and counted, never thrown about: one bad line from an exporter must not hide the rest.
/// </remarks>
internal ref struct PrometheusTextReader
{
    private const NumberStyles FloatStyle = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;

    private ReadOnlySpan<byte> _remaining;

    public PrometheusTextReader(ReadOnlySpan<byte> text) => _remaining = text;

    /// <summary>Lines skipped so far because they were neither a sample, a comment nor blank.</summary>
    public int MalformedLines { get; private set; }

    /// <summary>Moves to the next sample; false at the end of the text.</summary>
    public bool TryRead(out PrometheusSample sample)
    {
        while (!_remaining.IsEmpty)
        {
            ReadOnlySpan<byte> line;
            var end = _remaining.IndexOf((byte)'\n');
            if (end < 0)
            {
                line = _remaining;
                _remaining = default;
            }
            else
            {
                line = _remaining[..end];
                _remaining = _remaining[(end + 1)..];
            }

            line = line.Trim(" \t\r"u8);
            if (line.IsEmpty || line[0] == (byte)'#')
            {
                continue;
            }

            if (TryParseSample(line, out sample))
            {
                return true;
            }

            MalformedLines++;
        }

        sample = default;
        return false;
    }

    /// <summary>Parses one sample line, already trimmed and neither blank nor a comment.</summary>
    private static bool TryParseSample(ReadOnlySpan<byte> line, out PrometheusSample sample)
    {
        sample = default;
        var nameLength = MetricNameLength(line);
        if (nameLength == 0)
        {
            return false;
        }

        var name = line[..nameLength];
        var rest = line[nameLength..];
        var labels = ReadOnlySpan<byte>.Empty;
        var afterName = rest.TrimStart(" \t"u8);
        if (!afterName.IsEmpty && afterName[0] == (byte)'{')
        {
            var close = LabelSetEnd(afterName);
            if (close < 0)
            {
                return false;
            }

            labels = afterName[1..close];
            rest = afterName[(close + 1)..].TrimStart(" \t"u8);
        }
        else if (rest.Length == afterName.Length)
        {
            // Neither a label set nor a blank after the name ("name=1", "name!"): not a sample.
            return false;
        }
        else
        {
            rest = afterName;
        }

        var valueEnd = rest.IndexOfAny((byte)' ', (byte)'\t');
        var valueText = valueEnd < 0 ? rest : rest[..valueEnd];
        if (!TryParseValue(valueText, out var value))
        {
            return false;
        }

        long? timestamp = null;
        if (valueEnd >= 0)
        {
            // The line is trimmed, so what follows the value's blanks is one more token: the timestamp, and nothing after.
            var timestampText = rest[valueEnd..].TrimStart(" \t"u8);
            if (timestampText.IndexOfAny((byte)' ', (byte)'\t') >= 0
                || !long.TryParse(timestampText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var milliseconds))
            {
                return false;
            }

            timestamp = milliseconds;
        }

        sample = new PrometheusSample(name, labels, value, timestamp);
        return true;
    }

    /// <summary>Length of the metric name (<c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>) at the start of <paramref name="text"/>; 0 if there is none.</summary>
    private static int MetricNameLength(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty || !(IsLetter(text[0]) || text[0] is (byte)'_' or (byte)':'))
        {
            return 0;
        }

        var i = 1;
        while (i < text.Length && (IsLetter(text[i]) || IsDigit(text[i]) || text[i] is (byte)'_' or (byte)':'))
        {
            i++;
        }

        return i;
    }

    /// <summary>
    /// The index of the <c>}</c> that closes the label set opening at <paramref name="text"/>[0], or -1 when the
    /// set is malformed: a bad label name, a missing <c>=</c> or quote, an unknown escape, no closing brace.
    /// </summary>
    private static int LabelSetEnd(ReadOnlySpan<byte> text)
    {
        var i = SkipBlanks(text, 1);
        while (i < text.Length)
        {
            if (text[i] == (byte)'}')
            {
                return i;
            }

            if (!(IsLetter(text[i]) || text[i] == (byte)'_'))
            {
                return -1;
            }

            i++;
            while (i < text.Length && (IsLetter(text[i]) || IsDigit(text[i]) || text[i] == (byte)'_'))
            {
                i++;
            }

            i = SkipBlanks(text, i);
            if (i >= text.Length || text[i] != (byte)'=')
            {
                return -1;
            }

            i = SkipBlanks(text, i + 1);
            if (i >= text.Length || text[i] != (byte)'"')
            {
                return -1;
            }

            var valueLength = QuotedLength(text[(i + 1)..]);
            if (valueLength < 0)
            {
                return -1;
            }

            i = SkipBlanks(text, i + 1 + valueLength + 1);
            if (i >= text.Length)
            {
                return -1;
            }

            if (text[i] == (byte)',')
            {
                // A trailing comma before the brace is allowed.
                i = SkipBlanks(text, i + 1);
            }
            else if (text[i] != (byte)'}')
            {
                return -1;
            }
        }

        return -1;
    }

    /// <summary>
    /// The length of an escaped label value up to (not including) its closing quote, or -1 when the quote is
    /// missing or an escape other than <c>\\</c>, <c>\"</c>, <c>\n</c> appears.
    /// </summary>
    internal static int QuotedLength(ReadOnlySpan<byte> text)
    {
        var i = 0;
        while (true)
        {
            var special = text[i..].IndexOfAny((byte)'"', (byte)'\\');
            if (special < 0)
            {
                return -1;
            }

            i += special;
            if (text[i] == (byte)'"')
            {
                return i;
            }

            if (i + 1 >= text.Length || text[i + 1] is not ((byte)'\\' or (byte)'"' or (byte)'n'))
            {
                return -1;
            }

            i += 2;
        }
    }

    /// <summary>A float as Prometheus' exporters write it, including <c>NaN</c>, <c>+Inf</c>, <c>-Inf</c> in any case.</summary>
    private static bool TryParseValue(ReadOnlySpan<byte> text, out double value)
    {
        var unsigned = text;
        var negative = false;
        if (!text.IsEmpty && text[0] is (byte)'+' or (byte)'-')
        {
            negative = text[0] == (byte)'-';
            unsigned = text[1..];
        }

        if (Ascii.EqualsIgnoreCase(unsigned, "inf"u8) || Ascii.EqualsIgnoreCase(unsigned, "infinity"u8))
        {
            value = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }

        if (Ascii.EqualsIgnoreCase(unsigned, "nan"u8))
        {
            value = double.NaN;
            return true;
        }

        return double.TryParse(text, FloatStyle, CultureInfo.InvariantCulture, out value);
    }

    private static int SkipBlanks(ReadOnlySpan<byte> text, int index)
    {
        while (index < text.Length && text[index] is (byte)' ' or (byte)'\t')
        {
            index++;
        }

        return index;
    }

    private static bool IsLetter(byte c) => (uint)((c | 0x20) - 'a') <= 'z' - 'a';

    private static bool IsDigit(byte c) => (uint)(c - '0') <= 9;
}

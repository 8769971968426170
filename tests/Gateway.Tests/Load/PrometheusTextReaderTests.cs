using System.Text;
using Gateway.Load;

namespace Gateway.Tests.Load;

public sealed class PrometheusTextReaderTests
{
    /// <summary>A sample copied out of the reader's spans.</summary>
    private sealed record Sample(string Name, string Labels, double Value, long? Timestamp);

    private static (List<Sample> Samples, int Malformed) ReadAll(string text)
    {
        var reader = new PrometheusTextReader(Encoding.UTF8.GetBytes(text));
        var samples = new List<Sample>();
        while (reader.TryRead(out var sample))
        {
            samples.Add(new Sample(Encoding.UTF8.GetString(sample.Name), Encoding.UTF8.GetString(sample.Labels), sample.Value, sample.Timestamp));
        }

        return (samples, reader.MalformedLines);
    }

    /// <summary>Runs <paramref name="check"/> on the first sample named <paramref name="name"/> whose labels contain <paramref name="labelsContain"/>.</summary>
    private static void WithSample(string text, string name, string labelsContain, SampleCheck check)
    {
        var reader = new PrometheusTextReader(Encoding.UTF8.GetBytes(text));
        while (reader.TryRead(out var sample))
        {
            if (Encoding.UTF8.GetString(sample.Name) == name && Encoding.UTF8.GetString(sample.Labels).Contains(labelsContain, StringComparison.Ordinal))
            {
                check(sample);
                return;
            }
        }

        Assert.Fail($"no sample {name} with labels containing {labelsContain}");
    }

    private delegate void SampleCheck(PrometheusSample sample);

    [Fact]
    public void TryRead_VllmExposition_ReadsEveryWellFormedSampleAndCountsTheBrokenLines()
    {
        var (samples, malformed) = ReadAll(VllmExposition.Text);

        Assert.Equal(VllmExposition.SampleCount, samples.Count);
        Assert.Equal(VllmExposition.MalformedLineCount, malformed);
        Assert.Equal(new Sample("python_gc_objects_collected_total", "generation=\"0\"", 14232, null), samples[0]);
        Assert.Equal(new Sample("process_start_time_seconds", "", 1718000123.45, null), samples[3]);
        Assert.Equal(new Sample("vllm:num_requests_running", "engine=\"0\",model_name=\"qwen2.5-7b\"", 3, null), samples[4]);
        Assert.Equal(new Sample("vllm:num_requests_running", "engine=\"0\",model_name=\"qwen-lora \\\"fr\\\"\"", 2, 1718000123456), samples[5]);
        Assert.Equal(new Sample("process_open_fds", "", 42, null), samples[^1]);
    }

    [Fact]
    public void TryRead_HistogramAndSummary_AreSamplesUnderTheirOwnNames()
    {
        var (samples, _) = ReadAll(VllmExposition.Text);

        Assert.Equal(
            [
                new Sample("vllm:time_to_first_token_seconds_bucket", "engine=\"0\",le=\"0.001\",model_name=\"qwen2.5-7b\"", 0, null),
                new Sample("vllm:time_to_first_token_seconds_bucket", "engine=\"0\",le=\"0.1\",model_name=\"qwen2.5-7b\"", 12, null),
                new Sample("vllm:time_to_first_token_seconds_bucket", "engine=\"0\",le=\"1.0\",model_name=\"qwen2.5-7b\"", 40, null),
                new Sample("vllm:time_to_first_token_seconds_bucket", "engine=\"0\",le=\"+Inf\",model_name=\"qwen2.5-7b\"", 42, null),
                new Sample("vllm:time_to_first_token_seconds_sum", "engine=\"0\",model_name=\"qwen2.5-7b\"", 9.625, null),
                new Sample("vllm:time_to_first_token_seconds_count", "engine=\"0\",model_name=\"qwen2.5-7b\"", 42, null),
                new Sample("http_request_duration_seconds", "handler=\"/metrics\",quantile=\"0.5\"", 0.0021, null),
                new Sample("http_request_duration_seconds", "handler=\"/metrics\",quantile=\"0.99\"", double.PositiveInfinity, null),
                new Sample("http_request_duration_seconds_sum", "handler=\"/metrics\"", 0.125, null),
                new Sample("http_request_duration_seconds_count", "handler=\"/metrics\"", 7, null),
            ],
            samples.GetRange(14, 10));
    }

    [Fact]
    public void TryRead_SpecialValues_AreNaNAndInfinities()
    {
        var (samples, _) = ReadAll(VllmExposition.Text);

        Assert.Equal(double.NegativeInfinity, samples.Single(s => s.Name == "vllm:num_requests_waiting" && s.Labels.Contains("draft", StringComparison.Ordinal)).Value);
        Assert.True(double.IsNaN(samples.Single(s => s.Name == "vllm:num_preemptions_total").Value));
        Assert.True(double.IsNaN(samples.Single(s => s.Name == "vllm:kv_cache_usage_perc" && s.Labels.Contains("draft", StringComparison.Ordinal)).Value));
    }

    [Theory]
    [InlineData("NaN", double.NaN)]
    [InlineData("nan", double.NaN)]
    [InlineData("+Inf", double.PositiveInfinity)]
    [InlineData("Inf", double.PositiveInfinity)]
    [InlineData("-Inf", double.NegativeInfinity)]
    [InlineData("-inf", double.NegativeInfinity)]
    [InlineData("0", 0.0)]
    [InlineData("-0.5", -0.5)]
    [InlineData("1e-3", 0.001)]
    [InlineData("1.5E+2", 150.0)]
    [InlineData("+7", 7.0)]
    public void TryRead_Value_ParsesAsPrometheusWritesIt(string text, double expected)
    {
        var (samples, malformed) = ReadAll($"metric {text}\n");

        Assert.Equal(0, malformed);
        Assert.Equal(expected, Assert.Single(samples).Value);
    }

    [Fact]
    public void TryRead_EscapedLabelValues_AreUndoneByLabel()
    {
        WithSample(VllmExposition.Text, "vllm:cache_config_info", "block_size", sample =>
        {
            Assert.Equal(@"C:\models\qwen", sample.Label("path"));
            Assert.Equal("line one\nline two", sample.Label("note"));
            Assert.Equal("16", sample.Label("block_size"));
            Assert.Null(sample.Label("model_name"));
        });
        WithSample(VllmExposition.Text, "vllm:num_requests_running", "lora", sample => Assert.Equal("qwen-lora \"fr\"", sample.Label("model_name")));
    }

    [Fact]
    public void TryRead_TrailingCommaEmptyValuesAndNegativeTimestamp_AreAccepted()
    {
        WithSample(VllmExposition.Text, "vllm:lora_requests_info", "max_lora", sample =>
        {
            Assert.Equal(1.7e9, sample.Value);
            Assert.Equal(-5L, sample.Timestamp);
            Assert.Equal("", sample.Label("running_lora_adapters"));
            Assert.Equal("1", sample.Label("max_lora"));
        });
    }

    [Fact]
    public void TryRead_BlanksAroundTokens_AreAllowed()
    {
        var (samples, malformed) = ReadAll("  metric { a = \"x\" ,\tb=\"y\" }  4   123  \n\t\nother\t5\n");

        Assert.Equal(0, malformed);
        Assert.Equal([new Sample("metric", " a = \"x\" ,\tb=\"y\" ", 4, 123), new Sample("other", "", 5, null)], samples);
    }

    [Fact]
    public void TryRead_BraceRightAfterLabels_NeedsNoBlankBeforeTheValue()
    {
        var (samples, malformed) = ReadAll("metric{a=\"}\"}4\n");

        Assert.Equal(0, malformed);
        Assert.Equal(new Sample("metric", "a=\"}\"", 4, null), Assert.Single(samples));
    }

    [Fact]
    public void TryRead_CarriageReturnsAndNoFinalNewline_AreHandled()
    {
        var (samples, malformed) = ReadAll("# TYPE a gauge\r\na 1\r\n\r\nb{x=\"y\"} 2 10");

        Assert.Equal(0, malformed);
        Assert.Equal([new Sample("a", "", 1, null), new Sample("b", "x=\"y\"", 2, 10)], samples);
    }

    [Theory]
    [InlineData("metric")]
    [InlineData("metric{a=\"b\"}")]
    [InlineData("metric{a=\"b\"} ")]
    [InlineData("metric{a=\"b\" 1")]
    [InlineData("metric{a=\"b 1")]
    [InlineData("metric{a=b} 1")]
    [InlineData("metric{a} 1")]
    [InlineData("metric{=\"b\"} 1")]
    [InlineData("metric{a=\"b\",,c=\"d\"} 1")]
    [InlineData("metric{a=\"b\"c=\"d\"} 1")]
    [InlineData("metric{a=\"\\t\"} 1")]
    [InlineData("metric{a=\"b\\\"} 1")]
    [InlineData("metric{1a=\"b\"} 1")]
    [InlineData("metric 1 2 3")]
    [InlineData("metric 1 1.5")]
    [InlineData("metric one")]
    [InlineData("metric 1,5")]
    [InlineData("metric 0x10")]
    [InlineData("1metric 1")]
    [InlineData("metric-name 1")]
    [InlineData("{a=\"b\"} 1")]
    [InlineData("\"metric\" 1")]
    [InlineData("metric=1")]
    [InlineData("\u00e9t\u00e9 1")]
    [InlineData("garbage ][ garbage")]
    public void TryRead_MalformedLine_IsSkippedAndTheNextLineStillRead(string line)
    {
        var (samples, malformed) = ReadAll(line + "\nnext 1\n");

        Assert.Equal(1, malformed);
        Assert.Equal(new Sample("next", "", 1, null), Assert.Single(samples));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n\n")]
    [InlineData("   \t  \n")]
    [InlineData("# HELP metric Help with \\\\ and \\n escapes.\n# TYPE metric gauge\n# any comment\n#\n")]
    [InlineData("# EOF\n")]
    public void TryRead_OnlyCommentsAndBlankLines_GivesNothingAndNothingMalformed(string text)
    {
        var (samples, malformed) = ReadAll(text);

        Assert.Empty(samples);
        Assert.Equal(0, malformed);
    }

    [Fact]
    public void TryRead_CutOffMidLine_KeepsWhatCameBefore()
    {
        var text = VllmExposition.Text[..VllmExposition.Text.IndexOf("vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"qwen-lora", StringComparison.Ordinal)]
            + "vllm:kv_cache_usage_perc{engine=\"0\",model_na";

        var (samples, malformed) = ReadAll(text);

        Assert.Equal(1, malformed);
        Assert.Equal(new Sample("vllm:kv_cache_usage_perc", "engine=\"0\",model_name=\"qwen2.5-7b\"", 0.4375, null), samples[^1]);
    }
}

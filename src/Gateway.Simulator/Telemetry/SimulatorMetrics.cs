using System.Globalization;
using System.Text;
using Gateway.Simulator.Engine;
using Gateway.Simulator.Options;

namespace Gateway.Simulator.Telemetry;

/// <summary>
/// The engine metrics vLLM exports, with vLLM's names, buckets and <c>model_name</c> label, in Prometheus'
/// text format. Written here rather than with prometheus-net because vLLM's names contain a colon
/// (<c>vllm:num_requests_running</c>), which prometheus-net refuses; the format is a few lines.
/// </summary>
internal sealed class SimulatorMetrics
{
    private static readonly double[] TimeToFirstTokenBuckets =
        [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];

    private static readonly double[] InterTokenBuckets =
        [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];

    private static readonly double[] RequestBuckets =
        [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

    private readonly SequenceScheduler _scheduler;
    private readonly string _modelLabel;
    private readonly Histogram _timeToFirstToken = new(TimeToFirstTokenBuckets);
    private readonly Histogram _interTokenLatency = new(InterTokenBuckets);
    private readonly Histogram _queueTime = new(RequestBuckets);
    private readonly Histogram _e2eLatency = new(RequestBuckets);
    private long _promptTokens;
    private long _generationTokens;
    private long _finishedStop;
    private long _finishedLength;
    private long _finishedAbort;

    public SimulatorMetrics(SimulatorOptions options, SequenceScheduler scheduler)
    {
        _scheduler = scheduler;
        _modelLabel = "model_name=\"" + Escape(options.ServedModelNames[0]) + "\"";
    }

    public void PromptProcessed(int tokens) => Interlocked.Add(ref _promptTokens, tokens);

    public void TokensGenerated(int tokens) => Interlocked.Add(ref _generationTokens, tokens);

    public void QueueTime(TimeSpan time) => _queueTime.Observe(time.TotalSeconds);

    public void TimeToFirstToken(TimeSpan time) => _timeToFirstToken.Observe(time.TotalSeconds);

    public void InterTokenLatency(TimeSpan time) => _interTokenLatency.Observe(time.TotalSeconds);

    /// <summary>Counts a finished request by why it finished and records its end-to-end latency.</summary>
    public void Finished(FinishReason reason, TimeSpan e2e)
    {
        switch (reason)
        {
            case FinishReason.Stop:
                Interlocked.Increment(ref _finishedStop);
                break;
            case FinishReason.Length:
                Interlocked.Increment(ref _finishedLength);
                break;
            default:
                Interlocked.Increment(ref _finishedAbort);
                break;
        }

        _e2eLatency.Observe(e2e.TotalSeconds);
    }

    /// <summary>The exposition, Prometheus text format 0.0.4.</summary>
    public string Render()
    {
        var text = new StringBuilder(8192);
        Gauge(text, "vllm:num_requests_running", "Number of requests in model execution batches.", _scheduler.Running);
        Gauge(text, "vllm:num_requests_waiting", "Number of requests waiting to be processed.", _scheduler.Waiting);
        var usage = _scheduler.KvCacheUsage;
        Gauge(text, "vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", usage);
        Gauge(text, "vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage (older name of vllm:kv_cache_usage_perc).", usage);

        Counter(text, "vllm:prompt_tokens_total", "Number of prefill tokens processed.", Interlocked.Read(ref _promptTokens));
        Counter(text, "vllm:generation_tokens_total", "Number of generation tokens processed.", Interlocked.Read(ref _generationTokens));
        Header(text, "vllm:request_success_total", "Count of successfully processed requests.", "counter");
        FinishedSample(text, "stop", Interlocked.Read(ref _finishedStop));
        FinishedSample(text, "length", Interlocked.Read(ref _finishedLength));
        FinishedSample(text, "abort", Interlocked.Read(ref _finishedAbort));

        _timeToFirstToken.Render(text, "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", _modelLabel);
        _interTokenLatency.Render(text, "vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", _modelLabel);
        _queueTime.Render(text, "vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", _modelLabel);
        _e2eLatency.Render(text, "vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", _modelLabel);
        return text.ToString();
    }

    internal static string Format(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : value.ToString("R", CultureInfo.InvariantCulture);

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static void Header(StringBuilder text, string name, string help, string type) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private void Gauge(StringBuilder text, string name, string help, double value)
    {
        Header(text, name, help, "gauge");
        text.Append(name).Append('{').Append(_modelLabel).Append("} ").Append(Format(value)).Append('\n');
    }

    private void Counter(StringBuilder text, string name, string help, long value)
    {
        Header(text, name, help, "counter");
        text.Append(name).Append('{').Append(_modelLabel).Append("} ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    private void FinishedSample(StringBuilder text, string reason, long value) =>
        text.Append("vllm:request_success_total{").Append(_modelLabel).Append(",finished_reason=\"").Append(reason).Append("\"} ")
            .Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

    /// <summary>A cumulative-bucket histogram updated lock-free from request threads.</summary>
    private sealed class Histogram(double[] bounds)
    {
        private readonly long[] _counts = new long[bounds.Length + 1];
        private long _sumNanoseconds;

        public void Observe(double seconds)
        {
            var index = Array.BinarySearch(bounds, seconds);
            Interlocked.Increment(ref _counts[index >= 0 ? index : ~index]);
            Interlocked.Add(ref _sumNanoseconds, (long)(seconds * 1e9));
        }

        public void Render(StringBuilder text, string name, string help, string modelLabel)
        {
            Header(text, name, help, "histogram");
            long cumulative = 0;
            for (var i = 0; i <= bounds.Length; i++)
            {
                cumulative += Interlocked.Read(ref _counts[i]);
                var bound = i < bounds.Length ? Format(bounds[i]) : "+Inf";
                text.Append(name).Append("_bucket{").Append(modelLabel).Append(",le=\"").Append(bound).Append("\"} ")
                    .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            text.Append(name).Append("_sum{").Append(modelLabel).Append("} ").Append(Format(Interlocked.Read(ref _sumNanoseconds) / 1e9)).Append('\n');
            text.Append(name).Append("_count{").Append(modelLabel).Append("} ").Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }
}

/// <summary>Why a sequence ended, as vLLM's <c>finished_reason</c> label names it.</summary>
internal enum FinishReason
{
    Stop,
    Length,
    Abort,
}

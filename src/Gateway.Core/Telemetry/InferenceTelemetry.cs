using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Configuration;
using Gateway.Model;

namespace Gateway.Telemetry;

/// <summary>
/// The request path's OpenTelemetry side. A span: the server span ASP.NET Core makes for an inference request when
/// tracing is on, named and tagged after the GenAI semantic conventions (<c>chat qwen</c>, <c>gen_ai.*</c>) plus the
/// gateway's own attributes (<c>gateway.*</c>) and events (queued, placed, first token, retried, shed). Metrics: the
/// GenAI histograms, through <see cref="System.Diagnostics.Metrics"/>, beside (not instead of) the Prometheus ones.
/// With telemetry off it costs a null check and three <see cref="Instrument.Enabled"/> reads: no span exists, and a
/// histogram nobody listens to is not recorded. Every metric attribute comes from configuration (a service's model
/// names, pool names), never from what a client sent.
/// </summary>
internal sealed class InferenceTelemetry
{
    /// <summary>The meter of the GenAI histograms, which the OTLP exporter subscribes to.</summary>
    public const string MeterName = "Gateway.Inference";

    /// <summary><c>gen_ai.operation.name</c> of <c>/v1/chat/completions</c>.</summary>
    public const string ChatOperation = "chat";

    /// <summary><c>gen_ai.operation.name</c> of <c>/v1/completions</c>.</summary>
    public const string TextCompletionOperation = "text_completion";

    // The semantic conventions' advice for each histogram's buckets.
    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    private static readonly double[] DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    private static readonly double[] FirstTokenBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

    private readonly Histogram<long> _tokens;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _firstToken;

    public InferenceTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _tokens = meter.CreateHistogram("gen_ai.client.token.usage", "{token}", "Tokens one request used, by gen_ai.token.type (input, output).",
            tags: null, new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });
        _duration = meter.CreateHistogram("gen_ai.client.operation.duration", "s", "From a request's arrival at the gateway to the end of its answer.",
            tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _firstToken = meter.CreateHistogram("gen_ai.server.time_to_first_token", "s", "From a request's arrival at the gateway to its first generated token.",
            tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = FirstTokenBuckets });
    }

    /// <summary>
    /// Records one answered request on the GenAI histograms: its duration (with <c>error.type</c>, the status code, for
    /// an error), time to first token, and input and output tokens when the usage said them.
    /// </summary>
    public void Answered(
        string operation, InferenceService service, string? requestModel, Pool pool, int status, TimeSpan duration,
        TimeSpan? firstToken, long? promptTokens, long? completionTokens)
    {
        if (!_duration.Enabled && !_tokens.Enabled && !_firstToken.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { "gen_ai.operation.name", operation },
            { "gen_ai.request.model", ConfiguredModel(service, requestModel) },
            { "gateway.service", service.Name },
            { "gateway.pool", pool.Name },
        };
        if (firstToken is { } ttft && status < 400)
        {
            _firstToken.Record(ttft.TotalSeconds, tags);
        }

        if (promptTokens is { } input)
        {
            var inputTags = tags;
            inputTags.Add("gen_ai.token.type", "input");
            _tokens.Record(input, inputTags);
        }

        if (completionTokens is { } output)
        {
            var outputTags = tags;
            outputTags.Add("gen_ai.token.type", "output");
            _tokens.Record(output, outputTags);
        }

        if (status >= 400)
        {
            tags.Add("error.type", StatusCodes.Text(status));
        }

        _duration.Record(duration.TotalSeconds, tags);
    }

    /// <summary>
    /// The server span of the request in <paramref name="context"/> when it is recorded (tracing on and the trace
    /// sampled), else null: every other method takes it and does nothing with null.
    /// </summary>
    public static Activity? Span(HttpContext context) =>
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpActivityFeature>()?.Activity is { IsAllDataRequested: true } span ? span : null;

    /// <summary>
    /// Names the span <c>{operation} {model}</c> and tags what the request asked for, once its body is read, and its
    /// <paramref name="requestId"/> (the <c>x-request-id</c> of its answer and its log lines).
    /// </summary>
    public static void Requested(Activity? span, string requestId, string operation, string? model, int? maxTokens, bool stream)
    {
        if (span is null)
        {
            return;
        }

        span.SetTag("gateway.request.id", requestId);

        span.DisplayName = model is null ? operation : $"{operation} {model}";
        span.SetTag("gen_ai.operation.name", operation);
        span.SetTag("gen_ai.request.model", model);
        if (maxTokens is { } max)
        {
            span.SetTag("gen_ai.request.max_tokens", max);
        }

        span.SetTag("gateway.stream", stream);
    }

    /// <summary>Tags the service and tenant the request was found to be for.</summary>
    public static void Routed(Activity? span, InferenceService service, Tenant tenant)
    {
        span?.SetTag("gateway.service", service.Name);
        span?.SetTag("gateway.tenant", tenant.Name);
    }

    /// <summary>
    /// Attempt <paramref name="attempt"/> of the request got a slot on <paramref name="replica"/> after
    /// <paramref name="waited"/> in the queue: for the first, a <c>queued</c> event back at the time it began to wait (when
    /// it did); a <c>placed</c> event now.
    /// </summary>
    public static void Placed(Activity? span, Replica replica, TimeSpan waited, TimeProvider time, int attempt)
    {
        if (span is null)
        {
            return;
        }

        var now = time.GetUtcNow();

        // A retry's wait counts from the first admission, forwarding included: only the first says how long the queue held it.
        if (waited > TimeSpan.Zero && attempt == 1)
        {
            span.SetTag("gateway.queue.wait", waited.TotalSeconds);
            span.AddEvent(new ActivityEvent("queued", now - waited));
        }

        span.AddEvent(new ActivityEvent("placed", now, new ActivityTagsCollection
        {
            ["gateway.pool"] = replica.Pool.Name,
            ["gateway.replica"] = replica.Id,
            ["gateway.attempt"] = attempt,
        }));
    }

    /// <summary>A <c>retried</c> event: the attempt on <paramref name="replica"/> failed for <paramref name="reason"/> before anything reached the client.</summary>
    public static void Retried(Activity? span, Replica replica, string reason, int attempt) =>
        span?.AddEvent(new ActivityEvent("retried", tags: new ActivityTagsCollection
        {
            ["gateway.replica"] = replica.Id,
            ["gateway.retry.reason"] = reason,
            ["gateway.attempt"] = attempt,
        }));

    /// <summary>
    /// The gateway turned the request away itself (<paramref name="reason"/>, one of <see cref="RejectionReasons"/>): a
    /// <c>shed</c> event when a more important request took its place in a full queue; the reason as an attribute.
    /// </summary>
    public static void Rejected(Activity? span, string reason)
    {
        if (span is null)
        {
            return;
        }

        span.SetTag("gateway.rejection.reason", reason);
        if (reason == RejectionReasons.Shed)
        {
            span.AddEvent(new ActivityEvent("shed"));
        }
    }

    /// <summary>
    /// Tags what served the request and what it used: pool, replica, attempts, why it went past the service's first
    /// pool (<see cref="SpillReason"/>), the response model and token usage; a <c>first_token</c> event at the time it came.
    /// </summary>
    public static void Served(
        Activity? span, InferenceService service, Tenant tenant, Replica replica, int attempts, string? responseModel,
        TimeSpan? firstToken, long? promptTokens, long? completionTokens)
    {
        if (span is null)
        {
            return;
        }

        span.SetTag("gateway.pool", replica.Pool.Name);
        span.SetTag("gateway.replica", replica.Id);
        span.SetTag("gateway.attempts", attempts);
        span.SetTag("gateway.spill_reason", SpillReason(service, tenant, replica.Pool, attempts));
        span.SetTag("gen_ai.response.model", responseModel);
        if (promptTokens is { } input)
        {
            span.SetTag("gen_ai.usage.input_tokens", input);
        }

        if (completionTokens is { } output)
        {
            span.SetTag("gen_ai.usage.output_tokens", output);
        }

        if (firstToken is { } ttft)
        {
            span.AddEvent(new ActivityEvent("first_token", new DateTimeOffset(span.StartTimeUtc) + ttft));
        }
    }

    /// <summary>
    /// Why a request served by <paramref name="pool"/> was not served by the first pool its tenant may run on, or null
    /// when it was (or when the service spreads requests round robin, where nothing spills): <c>bridge</c> (it waited
    /// past the bridge's limit while GPUs booted), <c>overflow</c> (every GPU pool was full), <c>retry</c> (an attempt
    /// elsewhere failed), <c>capacity</c> (the pools before it were full).
    /// </summary>
    public static string? SpillReason(InferenceService service, Tenant tenant, Pool pool, int attempts)
    {
        if (service.Options.Balancing == BalancingMode.RoundRobin)
        {
            return null;
        }

        foreach (var first in service.Pools)
        {
            if (!tenant.MayRunOn(first))
            {
                continue;
            }

            if (ReferenceEquals(first, pool))
            {
                return null;
            }

            break;
        }

        return pool.Role switch
        {
            PoolRole.Bridge => "bridge",
            PoolRole.Overflow => "overflow",
            _ => attempts > 1 ? "retry" : "capacity",
        };
    }

    /// <summary>The service's own spelling of <paramref name="model"/>, or its first model: a metric attribute never carries a client's text.</summary>
    private static string ConfiguredModel(InferenceService service, string? model)
    {
        foreach (var known in service.Models)
        {
            if (string.Equals(known, model, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        return service.Models.Count > 0 ? service.Models[0] : service.Name;
    }

    /// <summary>Status codes as <c>error.type</c> values, made once.</summary>
    private static class StatusCodes
    {
        private static readonly string[] Texts = BuildTexts();

        public static string Text(int status) => status is >= 400 and < 600 ? Texts[status - 400] : "_OTHER";

        private static string[] BuildTexts()
        {
            var texts = new string[200];
            for (var i = 0; i < texts.Length; i++)
            {
                texts[i] = (400 + i).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return texts;
        }
    }
}

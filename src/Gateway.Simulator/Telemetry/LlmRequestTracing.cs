using System.Diagnostics;
using Gateway.Simulator.Options;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Simulator.Telemetry;

/// <summary>
/// vLLM's <c>--otlp-traces-endpoint</c>: a middleware that opens one <c>llm_request</c> server span per completion
/// request, child of the <c>traceparent</c> (and <c>tracestate</c>) the request carried or a root without one, and a
/// tracer provider that batches the spans to the OTLP endpoint. Built only when the flag is given, so without it the
/// request path has no middleware, no listener and no activity. The provider listens to this source alone: ASP.NET
/// Core's own request activity is never exported, so a trace shows one server span per request, as vLLM's does.
/// </summary>
internal sealed class LlmRequestTracing : IDisposable
{
    /// <summary>The simulator's activity source, the only one the tracer provider listens to.</summary>
    public const string SourceName = "Gateway.Simulator";

    /// <summary>The span's name, vLLM's.</summary>
    public const string SpanName = "llm_request";

    private readonly ActivitySource _source = new(SourceName, SimulatorApp.VllmVersion);
    private readonly TracerProvider _provider;

    /// <summary>Builds the provider that exports to <see cref="SimulatorOptions.OtlpTracesEndpoint"/>.</summary>
    /// <remarks>
    /// The batch's export delay and size come from the SDK's own <c>OTEL_BSP_*</c> variables (<c>OTEL_BSP_SCHEDULE_DELAY</c>,
    /// 5000 ms unless set), so a test can shorten it without a flag of ours.
    /// </remarks>
    public LlmRequestTracing(SimulatorOptions options)
    {
        var endpoint = options.OtlpTracesEndpoint ?? throw new ArgumentException("tracing needs --otlp-traces-endpoint", nameof(options));
        _provider = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateDefault().AddService(options.OtelServiceName))
            .AddSource(SourceName)
            .AddOtlpExporter(otlp =>
            {
                // Set in code, the endpoint is taken whole: no /v1/traces is appended for http/protobuf, as in vLLM.
                otlp.Endpoint = endpoint;
                otlp.Protocol = options.OtlpTracesProtocol;
            })
            .Build();
    }

    /// <summary>
    /// Middleware, first in the pipeline so the span also covers the key check and the rate limit: a completion request
    /// runs inside its span, which ends once the answer is written; an error answer (4xx, 5xx), an exception or a client
    /// that went away marks it as an error.
    /// </summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!_source.HasListeners() || !IsCompletion(context.Request))
        {
            await next(context);
            return;
        }

        var parent = ParentOf(context.Request.Headers);
        if (parent == default)
        {
            // A root span: without this the host's own request activity (never exported, never sampled) would become its
            // parent, and the SDK's parent-based sampler would drop the span.
            Activity.Current = null;
        }

        using var activity = _source.StartActivity(SpanName, ActivityKind.Server, parent);
        if (activity is null)
        {
            // Not sampled: the caller's traceparent said so.
            await next(context);
            return;
        }

        context.Features.Set(new LlmRequestSpan(activity));
        try
        {
            await next(context);
        }
        catch (Exception e)
        {
            activity.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            throw;
        }

        var status = context.Response.StatusCode;
        if (status >= 400)
        {
            activity.SetStatus(ActivityStatusCode.Error, "HTTP " + status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        else if (context.RequestAborted.IsCancellationRequested)
        {
            activity.SetStatus(ActivityStatusCode.Error, "the client went away");
        }
    }

    /// <summary>Exports the spans still in the batch, then stops listening.</summary>
    public void Dispose()
    {
        _provider.Dispose();
        _source.Dispose();
    }

    private static bool IsCompletion(HttpRequest request) =>
        HttpMethods.IsPost(request.Method)
        && (request.Path.Equals("/v1/chat/completions", StringComparison.OrdinalIgnoreCase)
            || request.Path.Equals("/v1/completions", StringComparison.OrdinalIgnoreCase));

    private static ActivityContext ParentOf(IHeaderDictionary headers)
    {
        var traceParent = headers.TraceParent;
        if (traceParent.Count != 1)
        {
            return default;
        }

        var traceState = headers.TraceState;
        return ActivityContext.TryParse(traceParent[0], traceState.Count == 1 ? traceState[0] : null, isRemote: true, out var parent)
            ? parent
            : default;
    }
}

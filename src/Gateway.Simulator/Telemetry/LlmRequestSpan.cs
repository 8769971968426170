using System.Diagnostics;
using Gateway.Simulator.Api;

namespace Gateway.Simulator.Telemetry;

/// <summary>
/// One completion request's <c>llm_request</c> span, found in the request's features while <see cref="LlmRequestTracing"/>
/// is on. The attributes are vLLM's (its <c>SpanAttributes</c>), latencies in seconds as vLLM gives them.
/// </summary>
internal sealed class LlmRequestSpan(Activity activity)
{
    /// <summary>The model named in the answer.</summary>
    public const string ResponseModel = "gen_ai.response.model";

    /// <summary>The answer's id (<c>chatcmpl-…</c>, <c>cmpl-…</c>).</summary>
    public const string RequestId = "gen_ai.request.id";

    /// <summary>Tokens the request may generate: its <c>max_tokens</c>, else what the simulator chose.</summary>
    public const string RequestMaxTokens = "gen_ai.request.max_tokens";

    /// <summary>The request's <c>temperature</c>, when it gave one.</summary>
    public const string RequestTemperature = "gen_ai.request.temperature";

    /// <summary>The request's <c>top_p</c>, when it gave one.</summary>
    public const string RequestTopP = "gen_ai.request.top_p";

    /// <summary>Choices asked for: always 1 here.</summary>
    public const string RequestN = "gen_ai.request.n";

    /// <summary>Sequences generated: always 1 here.</summary>
    public const string UsageNumSequences = "gen_ai.usage.num_sequences";

    /// <summary>Prompt tokens, as the answer's <c>usage</c> counts them.</summary>
    public const string UsagePromptTokens = "gen_ai.usage.prompt_tokens";

    /// <summary>Generated tokens, as the answer's <c>usage</c> counts them.</summary>
    public const string UsageCompletionTokens = "gen_ai.usage.completion_tokens";

    /// <summary>Seconds waiting for a free sequence.</summary>
    public const string LatencyTimeInQueue = "gen_ai.latency.time_in_queue";

    /// <summary>Seconds from arrival to the first token.</summary>
    public const string LatencyTimeToFirstToken = "gen_ai.latency.time_to_first_token";

    /// <summary>Seconds from arrival to the last token.</summary>
    public const string LatencyE2E = "gen_ai.latency.e2e";

    /// <summary>Seconds from leaving the queue to the first token.</summary>
    public const string LatencyTimeInModelPrefill = "gen_ai.latency.time_in_model_prefill";

    /// <summary>Seconds from the first token to the last.</summary>
    public const string LatencyTimeInModelDecode = "gen_ai.latency.time_in_model_decode";

    /// <summary>Seconds from leaving the queue to the last token.</summary>
    public const string LatencyTimeInModelInference = "gen_ai.latency.time_in_model_inference";

    /// <summary>The span of <paramref name="context"/>'s request, null when it has none.</summary>
    public static LlmRequestSpan? Of(HttpContext context) => context.Features.Get<LlmRequestSpan>();

    /// <summary>Records what vLLM records once a request has run: the request, its usage and its latencies.</summary>
    /// <param name="request">The validated request.</param>
    /// <param name="id">The answer's id.</param>
    /// <param name="completionTokens">Tokens generated.</param>
    /// <param name="queued">Time from arrival to a free sequence.</param>
    /// <param name="firstToken">Time from arrival to the first token; null when none came.</param>
    /// <param name="end">Time from arrival to the last token (or to the end of a request that produced none).</param>
    public void Ran(CompletionRequest request, string id, int completionTokens, TimeSpan queued, TimeSpan? firstToken, TimeSpan end)
    {
        activity.SetTag(ResponseModel, request.Model);
        activity.SetTag(RequestId, id);
        activity.SetTag(RequestMaxTokens, request.MaxTokens);
        if (request.Temperature is { } temperature)
        {
            activity.SetTag(RequestTemperature, temperature);
        }

        if (request.TopP is { } topP)
        {
            activity.SetTag(RequestTopP, topP);
        }

        activity.SetTag(RequestN, 1);
        activity.SetTag(UsageNumSequences, 1);
        activity.SetTag(UsagePromptTokens, request.PromptTokens);
        activity.SetTag(UsageCompletionTokens, completionTokens);
        activity.SetTag(LatencyTimeInQueue, queued.TotalSeconds);
        activity.SetTag(LatencyE2E, end.TotalSeconds);
        if (firstToken is { } ttft)
        {
            activity.SetTag(LatencyTimeToFirstToken, ttft.TotalSeconds);
            activity.SetTag(LatencyTimeInModelPrefill, (ttft - queued).TotalSeconds);
            activity.SetTag(LatencyTimeInModelDecode, (end - ttft).TotalSeconds);
        }

        activity.SetTag(LatencyTimeInModelInference, (end - queued).TotalSeconds);
    }
}

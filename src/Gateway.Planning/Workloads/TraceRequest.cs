using Gateway.Requests;
using Gateway.Configuration;

namespace Gateway.Planning;

/// <summary>
/// One request a replay sends: when it arrives and what it asks a replica for. Never the prompt or the answer, only
/// their sizes. <see cref="CompletionTokens"/> is what the replica generates: the simulator generates exactly
/// <see cref="MaxTokens"/> when it is given and its default answer length when not, so a synthetic request carries
/// that; a request read from the log carries the count the log recorded, when it has one.
/// </summary>
/// <param name="ArrivalOffset">When the request arrives, from the trace's start (the first arrival of a log).</param>
/// <param name="Service">The service it is sent to; null: the configuration's first service.</param>
/// <param name="Tenant">The tenant it is sent as; null: anonymous.</param>
/// <param name="Priority">Its priority class, which orders the admission queue and decides whether it scales cloud pools.</param>
/// <param name="Kind">The endpoint it calls.</param>
/// <param name="PromptTokens">Tokens of the prompt, which the replica's prefill time grows with.</param>
/// <param name="MaxTokens">The request's <c>max_tokens</c>; null when it set none.</param>
/// <param name="CompletionTokens">Tokens the replica generates for it.</param>
/// <param name="Stream">Whether the answer is streamed.</param>
internal sealed record TraceRequest(
    TimeSpan ArrivalOffset,
    string? Service,
    string? Tenant,
    PriorityClass Priority,
    RequestKind Kind,
    int PromptTokens,
    int? MaxTokens,
    int CompletionTokens,
    bool Stream)
{
    /// <summary>
    /// What the gateway recorded for the request when it came from a request log, so that a replay can be set beside
    /// the run it replays; null for a synthetic request.
    /// </summary>
    public RecordedOutcome? Recorded { get; init; }
}

namespace Gateway.Planning;

/// <summary>How the gateway served a request, as its request log recorded it: the measured side of a replay's comparison.</summary>
/// <param name="Status">The HTTP status the client got.</param>
/// <param name="Reason">Why the gateway rejected or failed it (for example <c>queue_full</c>); null when it did not say.</param>
/// <param name="Pool">The pool whose replica served it; null when none did.</param>
/// <param name="Attempts">How many replicas it was sent to (retries included); 0 when it never left the gateway.</param>
/// <param name="QueueWait">How long it waited in the admission queue.</param>
/// <param name="TimeToFirstToken">From arrival to the first token the gateway forwarded; null when there was none.</param>
/// <param name="Duration">From arrival to the answer's end.</param>
internal sealed record RecordedOutcome(
    int Status,
    string? Reason,
    string? Pool,
    int Attempts,
    TimeSpan QueueWait,
    TimeSpan? TimeToFirstToken,
    TimeSpan Duration);

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>What became of one request of a chaos phase, as the client saw it.</summary>
internal enum VerdictKind
{
    /// <summary>200 and a whole answer: a plain body with choices, or a stream through to <c>data: [DONE]</c> with no error event.</summary>
    Completed,

    /// <summary>
    /// An error the client can act on: a 4xx/5xx with OpenAI's error body and its <c>code</c>, or a stream ended by an error
    /// event with a code, then <c>data: [DONE]</c>.
    /// </summary>
    CleanError,

    /// <summary>Anything else: a reset, an empty or foreign body, a stream without <c>[DONE]</c>, no answer by the deadline.</summary>
    Lost,

    /// <summary>No connection: nothing listened at the gateway's address, so nothing was accepted.</summary>
    Refused,
}

/// <summary>
/// The class of one answer, with the error's <paramref name="Code"/> for a clean error or the <paramref name="Reason"/>
/// it was lost; <paramref name="CutMidAnswer"/> marks a stream whose error event came after part of the answer.
/// </summary>
internal sealed record Verdict(VerdictKind Kind, string? Code = null, string? Reason = null, bool CutMidAnswer = false, string? Detail = null)
{
    public static readonly Verdict Completed = new(VerdictKind.Completed);

    public static Verdict Clean(string code, bool cutMidAnswer = false) => new(VerdictKind.CleanError, Code: code, CutMidAnswer: cutMidAnswer);

    public static Verdict Lost(string reason, string? detail = null) => new(VerdictKind.Lost, Reason: reason, Detail: detail);

    public static Verdict Refused(string detail) => new(VerdictKind.Refused, Detail: detail);
}

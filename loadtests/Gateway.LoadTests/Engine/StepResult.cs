namespace Gateway.LoadTests.Engine;

/// <summary>
/// What one call of a scenario's step reports (NBomber's <c>Response.Ok()</c> / <c>Response.Fail()</c>): whether it
/// succeeded, the HTTP status (0 when no answer came: refused, reset, timed out), and when the first token arrived.
/// The runner measures the step's latency itself.
/// </summary>
internal readonly record struct StepResult(bool IsOk, int StatusCode, long FirstTokenTimestamp)
{
    /// <summary>No first token was seen (a failure, or an answer with no text).</summary>
    public const long NoFirstToken = 0;

    public static StepResult Ok(int statusCode, long firstTokenTimestamp) => new(true, statusCode, firstTokenTimestamp);

    public static StepResult Fail(int statusCode) => new(false, statusCode, NoFirstToken);
}

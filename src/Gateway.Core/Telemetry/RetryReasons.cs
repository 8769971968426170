namespace Gateway.Telemetry;

/// <summary>
/// The <c>reason</c> label values of <c>gateway_retries_total</c>: the one list the code that counts a retry names
/// its reason from, and the list whose series are exported at 0 for every configured pool from start.
/// </summary>
internal static class RetryReasons
{
    /// <summary>The replica answered 503 before any byte reached the client.</summary>
    public const string Overloaded = "overloaded";

    /// <summary>The replica refused or dropped the connection before answering.</summary>
    public const string ConnectionFailed = "connection_failed";

    /// <summary>Every reason.</summary>
    public static readonly IReadOnlyList<string> All = [ConnectionFailed, Overloaded];
}

namespace Gateway.Telemetry;

/// <summary>
/// The <c>reason</c> label values of <c>gateway_rejected_total</c> and <c>gateway_tenant_rejected_total</c>: the one list
/// the code that counts a rejection names its reason from, and the list whose series are exported at 0 for every
/// configured service and tenant from start.
/// </summary>
internal static class RejectionReasons
{
    /// <summary>The service's queue was full (429).</summary>
    public const string QueueFull = "queue_full";

    /// <summary>No replica took the request within the queue's wait limit (503).</summary>
    public const string QueueTimeout = "queue_timeout";

    /// <summary>A Sheddable request gave its place in a full queue to a Critical or Standard one (503).</summary>
    public const string Shed = "shed";

    /// <summary>The request body was larger than <c>MaxRequestBodyBytes</c> (413).</summary>
    public const string TooLarge = "too_large";

    /// <summary>No service answers to the host or model, or the path is unknown (404).</summary>
    public const string NotFound = "not_found";

    /// <summary>The gateway could not take the request (a 5xx of its own, e.g. while shutting down).</summary>
    public const string Unavailable = "unavailable";

    /// <summary>No or an unknown API key (401).</summary>
    public const string Unauthorized = "unauthorized";

    /// <summary>A service the tenant may not use (403 <c>model_not_allowed</c>).</summary>
    public const string Forbidden = "forbidden";

    /// <summary>The tenant had used its requests per minute (429 <c>rate_limit_exceeded</c>, type <c>requests</c>).</summary>
    public const string RateLimitedRequests = "rate_limited_requests";

    /// <summary>The tenant had used its tokens per minute (429 <c>rate_limit_exceeded</c>, type <c>tokens</c>).</summary>
    public const string RateLimitedTokens = "rate_limited_tokens";

    /// <summary>The tenant had its most requests in flight or waiting at once (429 <c>rate_limit_exceeded</c>).</summary>
    public const string RateLimitedConcurrency = "rate_limited_concurrency";

    /// <summary>Any other client error: a broken body, a missing field, a wrong method.</summary>
    public const string BadRequest = "bad_request";

    /// <summary>An unexpected failure of the gateway itself, answered 500 in OpenAI's shape.</summary>
    public const string InternalError = "internal_error";

    /// <summary>Every reason, in the order the metrics documentation lists them.</summary>
    public static readonly IReadOnlyList<string> All =
        [QueueFull, QueueTimeout, Shed, RateLimitedRequests, RateLimitedTokens, RateLimitedConcurrency, BadRequest, Unauthorized, Forbidden, NotFound, TooLarge, Unavailable, InternalError];
}

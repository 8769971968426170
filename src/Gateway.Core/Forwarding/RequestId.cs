namespace Gateway.Forwarding;

/// <summary>
/// The id that follows one request through the gateway: taken from the client's <c>x-request-id</c> when it is a sane
/// token, else made here; kept as the request's <see cref="HttpContext.TraceIdentifier"/> so everything that answers
/// or logs for the request reads it from one place. It goes to the replica, back to the client on every answer, and into
/// every error the gateway writes.
/// </summary>
internal static class RequestId
{
    /// <summary>The header, both ways.</summary>
    public const string HeaderName = "x-request-id";

    /// <summary>Longest id taken from a client; a longer one is replaced, so a client cannot bloat logs and headers.</summary>
    public const int MaxLength = 128;

    /// <summary>
    /// Takes the client's id or makes one, sets it as the request's trace identifier and echoes it on the answer.
    /// Allocates nothing when the client's id is taken, one string when it is made.
    /// </summary>
    public static string Establish(HttpContext context)
    {
        var sent = context.Request.Headers[HeaderName];
        var id = sent.Count == 1 && IsSane(sent[0]) ? sent[0]! : Guid.NewGuid().ToString("N");
        context.TraceIdentifier = id;
        context.Response.Headers[HeaderName] = id;
        return id;
    }

    /// <summary>Whether a client's id may be used as is: 1 to <see cref="MaxLength"/> visible ASCII characters (no space, no control).</summary>
    public static bool IsSane(string? id)
    {
        if (id is null || id.Length is 0 or > MaxLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (c is < '!' or > '~')
            {
                return false;
            }
        }

        return true;
    }
}

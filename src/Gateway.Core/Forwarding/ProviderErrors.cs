using System.Net;
using System.Text.Json;
using Gateway.Model;

namespace Gateway.Forwarding;

/// <summary>
/// A hosted API's error answers, in OpenAI's shape and the gateway's words: a request the provider found invalid keeps
/// its status and the provider's message (the client can fix it); the provider refusing the gateway's own key is a 502
/// that never blames the client's; anything else is a 502 <c>provider_error</c>. And the headers of an answer that speak
/// of the gateway's account at the provider rather than of the client's request.
/// </summary>
internal static class ProviderErrors
{
    // An error body is read this far for its message; the rest is not waited for.
    private const int MaxErrorBytes = 64 * 1024;
    private const int MaxMessageChars = 500;

    /// <summary>The error to answer for <paramref name="answer"/>, a 4xx or 5xx from <paramref name="pool"/>'s provider.</summary>
    public static async Task<OpenAIError> ReadAsync(Pool pool, HttpResponseMessage answer, CancellationToken cancellationToken)
    {
        var status = (int)answer.StatusCode;
        if (answer.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            return new OpenAIError(502, "server_error", "provider_auth_failed",
                $"Provider pool {pool.Name} refused the gateway's credentials ({status}); the operator must fix its key.", RetryAfterSeconds: 1);
        }

        var message = await MessageAsync(answer, cancellationToken);
        return status switch
        {
            400 or 404 or 413 or 422 => new OpenAIError(status == 422 ? 400 : status, "invalid_request_error", "provider_rejected",
                $"The provider refused the request: {message ?? answer.ReasonPhrase ?? status.ToString(System.Globalization.CultureInfo.InvariantCulture)}"),
            _ => new OpenAIError(502, "server_error", "provider_error",
                $"Provider pool {pool.Name} answered {status}{(message is null ? "" : ": " + message)}", RetryAfterSeconds: 1),
        };
    }

    /// <summary>Takes out the provider's rate-limit and account headers, which describe the gateway's account, not the client's limits.</summary>
    public static void RemoveAccountHeaders(IHeaderDictionary headers)
    {
        List<string>? names = null;
        foreach (var name in headers.Keys)
        {
            if (name.StartsWith("x-ratelimit-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("openai-", StringComparison.OrdinalIgnoreCase))
            {
                (names ??= []).Add(name);
            }
        }

        if (names is null)
        {
            return;
        }

        foreach (var name in names)
        {
            headers.Remove(name);
        }
    }

    /// <summary><c>error.message</c>, <c>message</c> or <c>detail</c> of the first <see cref="MaxErrorBytes"/> of the body, shortened; null when none can be read.</summary>
    private static async Task<string?> MessageAsync(HttpResponseMessage answer, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxErrorBytes];
        var length = 0;
        try
        {
            await using var body = await answer.Content.ReadAsStreamAsync(cancellationToken);
            int read;
            while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                length += read;
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(buffer.AsMemory(0, length));
            var root = json.RootElement;
            var text = root.ValueKind != JsonValueKind.Object ? null
                : root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) ? m.ToString()
                : root.TryGetProperty("error", out error) && error.ValueKind == JsonValueKind.String ? error.GetString()
                : root.TryGetProperty("message", out m) ? m.ToString()
                : root.TryGetProperty("detail", out m) ? m.ToString()
                : null;
            return text is null ? null : text.Length > MaxMessageChars ? text[..MaxMessageChars] + "…" : text;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

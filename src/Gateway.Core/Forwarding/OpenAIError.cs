using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Gateway.Forwarding;

/// <summary>
/// An error the gateway answers itself, always in OpenAI's shape
/// <c>{"error":{"message","type","param","code"}}</c>; 429 and 503 carry a <c>Retry-After</c>. Every answer carries the
/// request's <see cref="RequestId"/>, in the <c>x-request-id</c> header and at the end of the message
/// (<c>"… (request id 0f3c…)"</c>): the shape has no field for it, and clients (the OpenAI SDKs among them) that read
/// exactly those four fields show the message, so the id reaches whoever reports the error, without a fifth field.
/// </summary>
internal sealed record OpenAIError(int StatusCode, string Type, string Code, string Message, string? Param = null, int RetryAfterSeconds = 0)
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static OpenAIError InvalidRequest(string code, string message, string? param = null) =>
        new(400, "invalid_request_error", code, message, param);

    /// <summary>Writes the error as the whole answer; does nothing once an answer has started.</summary>
    public async Task WriteAsync(HttpResponse response)
    {
        if (response.HasStarted)
        {
            return;
        }

        response.StatusCode = StatusCode;
        response.ContentType = "application/json";

        // Set again: an answer cleared for a retry has lost the header RequestId.Establish put there.
        var requestId = response.HttpContext.TraceIdentifier;
        response.Headers[RequestId.HeaderName] = requestId;
        if (RetryAfterSeconds > 0)
        {
            response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }

        using (var json = new Utf8JsonWriter(response.BodyWriter, WriterOptions))
        {
            WriteTo(json, requestId);
        }

        await response.BodyWriter.FlushAsync();
    }

    /// <summary>The error object, also used as the payload of a final SSE event; the message ends with <paramref name="requestId"/>.</summary>
    public void WriteTo(Utf8JsonWriter json, string requestId)
    {
        json.WriteStartObject();
        json.WriteStartObject("error"u8);
        json.WriteString("message"u8, string.Concat(Message, " (request id ", requestId, ")"));
        json.WriteString("type"u8, Type);
        if (Param is null)
        {
            json.WriteNull("param"u8);
        }
        else
        {
            json.WriteString("param"u8, Param);
        }

        json.WriteString("code"u8, Code);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}

using System.Text.Encodings.Web;
using System.Text.Json;

namespace Gateway.Simulator.Api;

/// <summary>
/// An error as vLLM's OpenAI server answers it: <c>{"error":{"message","type","param","code"}}</c>, where
/// <c>type</c> is vLLM's exception name and <c>code</c> the HTTP status.
/// </summary>
internal sealed record ApiError(int StatusCode, string Type, string Message, string? Param = null)
{
    // Messages quote names with ' and `; keep them readable instead of \u0027.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static ApiError BadRequest(string message, string? param = null) => new(400, "BadRequestError", message, param);

    public static ApiError ModelNotFound(string model) =>
        new(404, "NotFoundError", $"The model `{model}` does not exist.", "model");

    public static ApiError Unavailable(string message) => new(503, "ServiceUnavailableError", message);

    /// <summary>Writes the error body, for a plain answer or as the payload of a final SSE event.</summary>
    public void WriteTo(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteStartObject("error"u8);
        json.WriteString("message"u8, Message);
        json.WriteString("type"u8, Type);
        if (Param is null)
        {
            json.WriteNull("param"u8);
        }
        else
        {
            json.WriteString("param"u8, Param);
        }

        json.WriteNumber("code"u8, StatusCode);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>Answers the request with this error, unless the answer has already started; a 429 or 503 says when to retry (1 s unless told).</summary>
    public async Task WriteAsync(HttpResponse response, string? retryAfterSeconds = null)
    {
        if (response.HasStarted)
        {
            return;
        }

        response.StatusCode = StatusCode;
        response.ContentType = "application/json";
        if (StatusCode is 429 or 503)
        {
            response.Headers.RetryAfter = retryAfterSeconds ?? "1";
        }

        using (var json = new Utf8JsonWriter(response.BodyWriter, WriterOptions))
        {
            WriteTo(json);
        }

        await response.BodyWriter.FlushAsync();
    }
}

using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Gateway.Forwarding;

/// <summary>
/// An error the gateway answers itself, always in OpenAI's shape
/// <c>{"error":{"message","type","param","code"}}</c>; 429 and 503 carry a <c>Retry-After</c>.
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
        if (RetryAfterSeconds > 0)
        {
            response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        }

        using (var json = new Utf8JsonWriter(response.BodyWriter, WriterOptions))
        {
            WriteTo(json);
        }

        await response.BodyWriter.FlushAsync();
    }

    /// <summary>The error object, also used as the payload of a final SSE event.</summary>
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

        json.WriteString("code"u8, Code);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}

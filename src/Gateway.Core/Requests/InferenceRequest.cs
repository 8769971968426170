using System.Text.Json;
using Gateway.Forwarding;

namespace Gateway.Requests;

/// <summary>
/// What the gateway reads from a completion request to route it: the model and whether it streams. The
/// body is checked in one forward pass (no document is built) and never changed.
/// </summary>
internal readonly record struct InferenceRequest(string Model, bool Stream, bool HasStreamOptions = false)
{
    /// <summary>Checks a body; on failure <paramref name="error"/> names the field and what is wrong.</summary>
    public static InferenceRequest? Parse(ReadOnlySpan<byte> body, RequestKind kind, out OpenAIError? error)
    {
        error = null;
        string? model = null;
        var hasModel = false;
        var hasInput = false;
        var stream = false;
        var hasStreamOptions = false;
        var inputField = kind == RequestKind.Chat ? "messages" : "prompt";
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = OpenAIError.InvalidRequest("invalid_json", "The request body must be a JSON object.");
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        error = OpenAIError.InvalidRequest("invalid_type", "'model' must be a string.", "model");
                        return null;
                    }

                    model = reader.GetString();
                    hasModel = true;
                }
                else if (reader.ValueTextEquals(kind == RequestKind.Chat ? "messages"u8 : "prompt"u8))
                {
                    reader.Read();
                    var valid = kind == RequestKind.Chat
                        ? reader.TokenType == JsonTokenType.StartArray
                        : reader.TokenType is JsonTokenType.String or JsonTokenType.StartArray;
                    if (!valid)
                    {
                        error = OpenAIError.InvalidRequest(
                            "invalid_type",
                            kind == RequestKind.Chat ? "'messages' must be an array." : "'prompt' must be a string or an array.",
                            inputField);
                        return null;
                    }

                    hasInput = true;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("stream"u8))
                {
                    reader.Read();
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null))
                    {
                        error = OpenAIError.InvalidRequest("invalid_type", "'stream' must be true or false.", "stream");
                        return null;
                    }

                    stream = reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("stream_options"u8))
                {
                    reader.Read();
                    hasStreamOptions = reader.TokenType != JsonTokenType.Null;
                    reader.Skip();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            // Anything after the object (a second value, stray text) makes the body invalid JSON.
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                error = OpenAIError.InvalidRequest("invalid_json", "The request body is not valid JSON: unexpected data after the object.");
                return null;
            }
        }
        catch (JsonException e)
        {
            error = OpenAIError.InvalidRequest("invalid_json", "The request body is not valid JSON: " + e.Message);
            return null;
        }

        if (!hasModel || string.IsNullOrEmpty(model))
        {
            error = OpenAIError.InvalidRequest("missing_field", "You must provide a 'model' string.", "model");
            return null;
        }

        if (!hasInput)
        {
            error = OpenAIError.InvalidRequest("missing_field", $"You must provide '{inputField}'.", inputField);
            return null;
        }

        return new InferenceRequest(model, stream, hasStreamOptions);
    }
}

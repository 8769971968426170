using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;
using Gateway.Forwarding;

namespace Gateway.Requests;

/// <summary>
/// What the gateway reads from a completion request to route it: the model and whether it streams; and, for its
/// tenant's tokens per minute, the completion tokens it asks for at most (<c>max_tokens</c>, or a chat request's
/// <c>max_completion_tokens</c>; the larger when both are given). The body is checked in one forward pass (no document
/// is built) and never changed.
/// </summary>
/// <remarks>
/// Every string in the body, however deep, is checked as well as the fields the gateway reads: a body is
/// forwarded only if it is text a replica can decode (valid UTF-8, no <c>\u</c> escape of half a surrogate
/// pair), so what a client sends is answered 400 here rather than failing in the gateway or a replica.
/// </remarks>
internal readonly record struct InferenceRequest(string Model, bool Stream, bool HasStreamOptions = false, int? MaxTokens = null, RequestKind Kind = RequestKind.Chat)
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
        int? maxTokens = null;
        var inputField = kind == RequestKind.Chat ? "messages" : "prompt";
        if (!Utf8.IsValid(body))
        {
            error = OpenAIError.InvalidRequest("invalid_json", "The request body is not valid JSON: it is not valid UTF-8.");
            return null;
        }

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
                if (!HasWholeEscapes(ref reader))
                {
                    error = LoneSurrogate();
                    return null;
                }

                if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        error = OpenAIError.InvalidRequest("invalid_type", "'model' must be a string.", "model");
                        return null;
                    }

                    if (!HasWholeEscapes(ref reader))
                    {
                        error = LoneSurrogate();
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
                    if (!SkipChecked(ref reader))
                    {
                        error = LoneSurrogate();
                        return null;
                    }
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
                else if (reader.ValueTextEquals("max_tokens"u8) || (kind == RequestKind.Chat && reader.ValueTextEquals("max_completion_tokens"u8)))
                {
                    // Read for the tenant's token reservation only: a value a replica would refuse is left for it to refuse.
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number)
                    {
                        if (reader.TryGetInt32(out var value) && value > 0)
                        {
                            maxTokens = Math.Max(maxTokens ?? 0, value);
                        }
                    }
                    else if (!SkipChecked(ref reader))
                    {
                        error = LoneSurrogate();
                        return null;
                    }
                }
                else if (reader.ValueTextEquals("stream_options"u8))
                {
                    reader.Read();
                    hasStreamOptions = reader.TokenType != JsonTokenType.Null;
                    if (!SkipChecked(ref reader))
                    {
                        error = LoneSurrogate();
                        return null;
                    }
                }
                else
                {
                    reader.Read();
                    if (!SkipChecked(ref reader))
                    {
                        error = LoneSurrogate();
                        return null;
                    }
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

        return new InferenceRequest(model, stream, hasStreamOptions, maxTokens, kind);
    }

    private static OpenAIError LoneSurrogate() => OpenAIError.InvalidRequest(
        "invalid_json", @"The request body is not valid JSON: a \u escape names half of a surrogate pair without the other half.");

    /// <summary>
    /// Moves past the value the reader is on, as <see cref="Utf8JsonReader.Skip"/> does, checking the escapes of
    /// every string and property name in it; false at the first that is not whole.
    /// </summary>
    private static bool SkipChecked(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            return HasWholeEscapes(ref reader);
        }

        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (!HasWholeEscapes(ref reader))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// False when the string or property name the reader is on has a <c>\u</c> escape of a high surrogate not followed
    /// by one of a low surrogate, or of a low surrogate without a high one before it: UTF-16 no decoder can turn into
    /// text. The reader has already checked that every escape is well formed.
    /// </summary>
    private static bool HasWholeEscapes(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName) || !reader.ValueIsEscaped)
        {
            return true;
        }

        var raw = reader.ValueSpan;
        var awaitingLow = false;
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] != (byte)'\\')
            {
                if (awaitingLow)
                {
                    return false;
                }

                continue;
            }

            if (raw[i + 1] != (byte)'u')
            {
                if (awaitingLow)
                {
                    return false;
                }

                i++;
                continue;
            }

            var unit = ushort.Parse(raw.Slice(i + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            i += 5;
            if (awaitingLow)
            {
                if (!char.IsLowSurrogate((char)unit))
                {
                    return false;
                }

                awaitingLow = false;
            }
            else if (char.IsHighSurrogate((char)unit))
            {
                awaitingLow = true;
            }
            else if (char.IsLowSurrogate((char)unit))
            {
                return false;
            }
        }

        return !awaitingLow;
    }
}

using System.Text.Json;
using Gateway.Simulator.Engine;
using Gateway.Simulator.Options;

namespace Gateway.Simulator.Api;

/// <summary>
/// What the simulator needs from a chat or text completion request, validated as vLLM validates it; the sampling
/// settings (<see cref="Temperature"/>, <see cref="TopP"/>) change nothing but are reported on the request's span.
/// </summary>
internal sealed record CompletionRequest(
    string Model,
    int PromptTokens,
    int MaxTokens,
    bool MaxTokensGiven,
    bool Stream,
    bool IncludeUsage)
{
    /// <summary>The request's <c>temperature</c>, when it gave a number.</summary>
    public double? Temperature { get; init; }

    /// <summary>The request's <c>top_p</c>, when it gave a number.</summary>
    public double? TopP { get; init; }

    // vLLM's chat template adds a few tokens around each message and before the answer.
    private const int TokensPerMessage = 4;
    private const int TokensBeforeAnswer = 3;

    /// <summary>Reads and validates a request body; on failure <paramref name="error"/> says what is wrong.</summary>
    public static CompletionRequest? Read(JsonElement root, EndpointKind kind, SimulatorOptions options, out ApiError? error)
    {
        error = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = ApiError.BadRequest("The request body must be a JSON object.");
            return null;
        }

        var model = options.ServedModelNames[0];
        if (root.TryGetProperty("model"u8, out var modelElement) && modelElement.ValueKind != JsonValueKind.Null)
        {
            if (modelElement.ValueKind != JsonValueKind.String)
            {
                error = ApiError.BadRequest("'model' must be a string.", "model");
                return null;
            }

            model = modelElement.GetString()!;
            if (!IsServed(model, options))
            {
                error = ApiError.ModelNotFound(model);
                return null;
            }
        }

        var promptTokens = kind == EndpointKind.Chat
            ? CountMessages(root, out error)
            : CountPrompt(root, out error);
        if (error is not null)
        {
            return null;
        }

        var maxTokensGiven = TryReadMaxTokens(root, kind, out var maxTokens, out error);
        if (error is not null)
        {
            return null;
        }

        if (!TryReadBoolean(root, "stream", out var stream, out error))
        {
            return null;
        }

        var includeUsage = false;
        if (root.TryGetProperty("stream_options"u8, out var streamOptions) && streamOptions.ValueKind != JsonValueKind.Null)
        {
            if (!stream)
            {
                error = ApiError.BadRequest("Stream options can only be defined when `stream=True`.", "stream_options");
                return null;
            }

            if (streamOptions.ValueKind != JsonValueKind.Object)
            {
                error = ApiError.BadRequest("'stream_options' must be an object.", "stream_options");
                return null;
            }

            if (!TryReadBoolean(streamOptions, "include_usage", out includeUsage, out error))
            {
                return null;
            }
        }

        if (root.TryGetProperty("n"u8, out var n) && n.ValueKind != JsonValueKind.Null
            && !(n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var count) && count == 1))
        {
            error = ApiError.BadRequest("The simulator generates one choice per request: 'n' must be 1.", "n");
            return null;
        }

        var maxModelLen = options.MaxModelLen;
        var promptName = kind == EndpointKind.Chat ? "messages" : "prompt";
        if (maxTokensGiven)
        {
            if (promptTokens + maxTokens > maxModelLen)
            {
                error = ApiError.BadRequest(
                    $"This model's maximum context length is {maxModelLen} tokens. However, you requested " +
                    $"{promptTokens + maxTokens} tokens ({promptTokens} in the {promptName}, {maxTokens} in the completion). " +
                    $"Please reduce the length of the {promptName} or completion.",
                    "max_tokens");
                return null;
            }
        }
        else
        {
            if (promptTokens >= maxModelLen)
            {
                error = ApiError.BadRequest(
                    $"This model's maximum context length is {maxModelLen} tokens. However, your request has " +
                    $"{promptTokens} input tokens. Please reduce the length of the {promptName}.",
                    promptName);
                return null;
            }

            maxTokens = Math.Min(options.DefaultMaxTokens, maxModelLen - promptTokens);
        }

        return new CompletionRequest(model, promptTokens, maxTokens, maxTokensGiven, stream, includeUsage)
        {
            Temperature = OptionalNumber(root, "temperature"u8),
            TopP = OptionalNumber(root, "top_p"u8),
        };
    }

    private static double? OptionalNumber(JsonElement root, ReadOnlySpan<byte> name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) ? number : null;

    private static bool IsServed(string model, SimulatorOptions options)
    {
        foreach (var name in options.ServedModelNames)
        {
            if (string.Equals(name, model, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static int CountMessages(JsonElement root, out ApiError? error)
    {
        error = null;
        if (!root.TryGetProperty("messages"u8, out var messages) || messages.ValueKind == JsonValueKind.Null)
        {
            error = ApiError.BadRequest("Field 'messages' is required.", "messages");
            return 0;
        }

        if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            error = ApiError.BadRequest("'messages' must be a non-empty array of messages.", "messages");
            return 0;
        }

        var tokens = TokensBeforeAnswer;
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object
                || !message.TryGetProperty("role"u8, out var role)
                || role.ValueKind != JsonValueKind.String)
            {
                error = ApiError.BadRequest($"messages[{index}] must be an object with a string 'role'.", "messages");
                return 0;
            }

            tokens += TokensPerMessage;
            if (message.TryGetProperty("content"u8, out var content))
            {
                switch (content.ValueKind)
                {
                    case JsonValueKind.String:
                        tokens += TokenText.CountTokens(content.GetString()!);
                        break;
                    case JsonValueKind.Array:
                        foreach (var part in content.EnumerateArray())
                        {
                            if (part.ValueKind == JsonValueKind.Object
                                && part.TryGetProperty("text"u8, out var text)
                                && text.ValueKind == JsonValueKind.String)
                            {
                                tokens += TokenText.CountTokens(text.GetString()!);
                            }
                        }

                        break;
                    case JsonValueKind.Null:
                        break;
                    default:
                        error = ApiError.BadRequest($"messages[{index}].content must be a string or an array of parts.", "messages");
                        return 0;
                }
            }

            index++;
        }

        return tokens;
    }

    private static int CountPrompt(JsonElement root, out ApiError? error)
    {
        error = null;
        if (!root.TryGetProperty("prompt"u8, out var prompt) || prompt.ValueKind == JsonValueKind.Null)
        {
            error = ApiError.BadRequest("Field 'prompt' is required.", "prompt");
            return 0;
        }

        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                return TokenText.CountTokens(prompt.GetString()!);
            case JsonValueKind.Array when prompt.GetArrayLength() > 0:
                var first = prompt[0];
                if (first.ValueKind == JsonValueKind.Number)
                {
                    // A prompt given as token ids counts one token per id.
                    return prompt.GetArrayLength();
                }

                if (prompt.GetArrayLength() == 1 && first.ValueKind == JsonValueKind.String)
                {
                    return TokenText.CountTokens(first.GetString()!);
                }

                if (prompt.GetArrayLength() == 1 && first.ValueKind == JsonValueKind.Array)
                {
                    return first.GetArrayLength();
                }

                error = ApiError.BadRequest("The simulator takes one prompt per request: a string, a list of one string, or token ids.", "prompt");
                return 0;
            default:
                error = ApiError.BadRequest("'prompt' must be a string, a list of one string, or a list of token ids.", "prompt");
                return 0;
        }
    }

    private static bool TryReadMaxTokens(JsonElement root, EndpointKind kind, out int maxTokens, out ApiError? error)
    {
        maxTokens = 0;
        error = null;
        var name = "max_tokens";
        if (!root.TryGetProperty("max_tokens"u8, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            // Newer chat clients send max_completion_tokens instead; vLLM takes either.
            if (kind != EndpointKind.Chat
                || !root.TryGetProperty("max_completion_tokens"u8, out value)
                || value.ValueKind == JsonValueKind.Null)
            {
                return false;
            }

            name = "max_completion_tokens";
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out maxTokens) || maxTokens < 1)
        {
            error = ApiError.BadRequest($"'{name}' must be a whole number of at least 1, got {value.GetRawText()}.", name);
            return false;
        }

        return true;
    }

    private static bool TryReadBoolean(JsonElement element, string name, out bool value, out ApiError? error)
    {
        value = false;
        error = null;
        if (!element.TryGetProperty(name, out var property) || property.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (property.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            value = property.GetBoolean();
            return true;
        }

        error = ApiError.BadRequest($"'{name}' must be true or false, got {property.GetRawText()}.", name);
        return false;
    }
}

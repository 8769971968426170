using System.Text.Json;

namespace Gateway.Forwarding;

/// <summary>Reads OpenAI's <c>usage</c> object, the one place token counts come from, for plain and streamed answers alike.</summary>
internal static class TokenUsage
{
    /// <summary>
    /// Reads the members of a <c>usage</c> object (the reader is on its StartObject) and keeps
    /// <c>prompt_tokens</c> and <c>completion_tokens</c>; other members are skipped.
    /// </summary>
    public static void Read(ref Utf8JsonReader reader, ref long? promptTokens, ref long? completionTokens)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var prompt = reader.ValueTextEquals("prompt_tokens"u8);
            var completion = reader.ValueTextEquals("completion_tokens"u8);
            reader.Read();
            if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value))
            {
                if (prompt)
                {
                    promptTokens = value;
                }
                else if (completion)
                {
                    completionTokens = value;
                }
            }
            else
            {
                reader.Skip();
            }
        }
    }
}

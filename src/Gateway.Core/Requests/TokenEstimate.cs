using Gateway.Configuration;

namespace Gateway.Requests;

/// <summary>
/// The tokens a request may use, reserved from its tenant's tokens per minute before it runs. The gateway has no
/// tokenizer, so the prompt is estimated at one token per four bytes of the whole body, the usual rule of thumb for
/// English text: the body holds everything a model reads (messages, system prompt, tool definitions) and some JSON
/// besides, so the estimate errs high, and the difference comes back when the answer's usage is known. The completion
/// is what the request allows at most: its <c>max_tokens</c>, else the service's <see cref="ServiceOptions.AssumedMaxTokens"/>.
/// </summary>
internal static class TokenEstimate
{
    /// <summary>Bytes of body counted as one prompt token.</summary>
    public const int BytesPerToken = 4;

    /// <summary>The reservation for a body of <paramref name="bodyBytes"/> that allows <paramref name="maxTokens"/> completion tokens.</summary>
    public static long For(int bodyBytes, int? maxTokens, ServiceOptions service) =>
        ((bodyBytes + BytesPerToken - 1) / BytesPerToken) + (long)(maxTokens ?? service.AssumedMaxTokens);
}

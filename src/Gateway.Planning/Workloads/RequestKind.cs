namespace Gateway.Planning;

/// <summary>Which OpenAI-compatible endpoint a replayed request calls; the request log writes it as <c>chat</c> or <c>text_completion</c>.</summary>
internal enum RequestKind
{
    /// <summary><c>/v1/chat/completions</c>.</summary>
    Chat,

    /// <summary><c>/v1/completions</c>.</summary>
    TextCompletion,
}

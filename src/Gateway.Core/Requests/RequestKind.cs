namespace Gateway.Requests;

/// <summary>The OpenAI endpoints the gateway serves.</summary>
internal enum RequestKind
{
    /// <summary><c>POST /v1/chat/completions</c>: needs <c>messages</c>.</summary>
    Chat,

    /// <summary><c>POST /v1/completions</c>: needs <c>prompt</c>.</summary>
    Text,
}

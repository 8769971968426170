namespace Gateway.Simulator.Api;

/// <summary>The two generation endpoints: chat (<c>/v1/chat/completions</c>) and text (<c>/v1/completions</c>).</summary>
internal enum EndpointKind
{
    Chat,
    Text,
}

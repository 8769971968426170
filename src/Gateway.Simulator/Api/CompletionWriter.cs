using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Gateway.Simulator.Engine;
using Gateway.Simulator.Telemetry;

namespace Gateway.Simulator.Api;

/// <summary>
/// Writes answers in vLLM's exact JSON and SSE framing straight into the response pipe: plain chat and text
/// completions with <c>usage</c>, and streams of <c>data: {chunk}</c> events ending with <c>data: [DONE]</c>.
/// </summary>
internal sealed class CompletionWriter : IDisposable
{
    private readonly PipeWriter _body;
    private readonly Utf8JsonWriter _json;
    private readonly EndpointKind _kind;
    private readonly string _id;
    private readonly long _created;
    private readonly string _model;

    public CompletionWriter(PipeWriter body, EndpointKind kind, string id, long created, string model)
    {
        _body = body;
        _json = new Utf8JsonWriter(body, new JsonWriterOptions { SkipValidation = true });
        _kind = kind;
        _id = id;
        _created = created;
        _model = model;
    }

    /// <summary>The first chat chunk: the assistant's role and empty content, sent with the first token.</summary>
    public void WriteRoleChunk()
    {
        StartEvent();
        StartChunk();
        _json.WriteStartObject("delta"u8);
        _json.WriteString("role"u8, "assistant"u8);
        _json.WriteString("content"u8, ""u8);
        _json.WriteEndObject();
        EndChoice(finishReason: null);
        EndChunk();
        EndEvent();
    }

    /// <summary>One generated token; the last one carries the finish reason, as vLLM sends it.</summary>
    public void WriteTokenChunk(ReadOnlySpan<byte> token, FinishReason? finishReason)
    {
        StartEvent();
        StartChunk();
        if (_kind == EndpointKind.Chat)
        {
            _json.WriteStartObject("delta"u8);
            _json.WriteString("content"u8, token);
            _json.WriteEndObject();
        }
        else
        {
            _json.WriteString("text"u8, token);
        }

        EndChoice(finishReason);
        EndChunk();
        EndEvent();
    }

    /// <summary>The usage chunk a client asked for with <c>stream_options.include_usage</c>: no choices, only usage.</summary>
    public void WriteUsageChunk(int promptTokens, int completionTokens)
    {
        StartEvent();
        WriteHeader(chunk: true);
        _json.WriteStartArray("choices"u8);
        _json.WriteEndArray();
        WriteUsage(promptTokens, completionTokens);
        _json.WriteEndObject();
        EndEvent();
    }

    /// <summary>The stream's terminator.</summary>
    public void WriteDone() => _body.Write("data: [DONE]\n\n"u8);

    /// <summary>A whole non-streamed answer with its <c>usage</c>.</summary>
    public void WritePlain(ulong requestSeed, int completionTokens, int promptTokens, FinishReason finishReason)
    {
        _json.Reset(_body);
        WriteHeader(chunk: false);
        _json.WriteStartArray("choices"u8);
        _json.WriteStartObject();
        _json.WriteNumber("index"u8, 0);
        if (_kind == EndpointKind.Chat)
        {
            _json.WriteStartObject("message"u8);
            _json.WriteString("role"u8, "assistant"u8);
            _json.WritePropertyName("content"u8);
            WriteText(requestSeed, completionTokens);
            _json.WriteNull("refusal"u8);
            _json.WriteStartArray("tool_calls"u8);
            _json.WriteEndArray();
            _json.WriteEndObject();
        }
        else
        {
            _json.WritePropertyName("text"u8);
            WriteText(requestSeed, completionTokens);
        }

        _json.WriteNull("logprobs"u8);
        _json.WriteString("finish_reason"u8, FinishReasonText(finishReason));
        _json.WriteNull("stop_reason"u8);
        _json.WriteEndObject();
        _json.WriteEndArray();
        WriteUsage(promptTokens, completionTokens);
        _json.WriteNull("prompt_logprobs"u8);
        _json.WriteEndObject();
        _json.Flush();
    }

    /// <summary>A final error event for a stream that cannot finish, in vLLM's way: <c>data: {"error":{...}}</c>.</summary>
    public void WriteErrorEvent(ApiError error)
    {
        StartEvent();
        error.WriteTo(_json);
        EndEvent();
    }

    public void Dispose() => _json.Dispose();

    private static ReadOnlySpan<byte> FinishReasonText(FinishReason reason) =>
        reason == FinishReason.Length ? "length"u8 : "stop"u8;

    private void WriteText(ulong requestSeed, int tokens)
    {
        if (tokens == 0)
        {
            _json.WriteStringValue(""u8);
            return;
        }

        for (var i = 0; i < tokens; i++)
        {
            _json.WriteStringValueSegment(TokenText.Token(requestSeed, i), isFinalSegment: i == tokens - 1);
        }
    }

    private void StartEvent()
    {
        _body.Write("data: "u8);
        _json.Reset(_body);
    }

    private void EndEvent()
    {
        _json.Flush();
        _body.Write("\n\n"u8);
    }

    private void StartChunk()
    {
        WriteHeader(chunk: true);
        _json.WriteStartArray("choices"u8);
        _json.WriteStartObject();
        _json.WriteNumber("index"u8, 0);
    }

    private void EndChoice(FinishReason? finishReason)
    {
        _json.WriteNull("logprobs"u8);
        if (finishReason is { } reason)
        {
            _json.WriteString("finish_reason"u8, FinishReasonText(reason));
        }
        else
        {
            _json.WriteNull("finish_reason"u8);
        }

        if (_kind == EndpointKind.Text)
        {
            _json.WriteNull("stop_reason"u8);
        }

        _json.WriteEndObject();
    }

    private void EndChunk()
    {
        _json.WriteEndArray();
        _json.WriteEndObject();
    }

    private void WriteHeader(bool chunk)
    {
        _json.WriteStartObject();
        _json.WriteString("id"u8, _id);
        _json.WriteString("object"u8, (_kind, chunk) switch
        {
            (EndpointKind.Chat, true) => "chat.completion.chunk"u8,
            (EndpointKind.Chat, false) => "chat.completion"u8,
            _ => "text_completion"u8,
        });
        _json.WriteNumber("created"u8, _created);
        _json.WriteString("model"u8, _model);
    }

    private void WriteUsage(int promptTokens, int completionTokens)
    {
        _json.WriteStartObject("usage"u8);
        _json.WriteNumber("prompt_tokens"u8, promptTokens);
        _json.WriteNumber("total_tokens"u8, promptTokens + completionTokens);
        _json.WriteNumber("completion_tokens"u8, completionTokens);
        _json.WriteEndObject();
    }
}

using System.Text;
using Gateway.Forwarding;
using Gateway.Requests;

namespace Gateway.Tests.Requests;

public sealed class InferenceRequestTests
{
    private static InferenceRequest? Parse(string body, RequestKind kind, out OpenAIError? error) =>
        InferenceRequest.Parse(Encoding.UTF8.GetBytes(body), kind, out error);

    private static void AssertRejected(string body, RequestKind kind, string code, string? param, string message)
    {
        var request = Parse(body, kind, out var error);

        Assert.Null(request);
        Assert.NotNull(error);
        Assert.Equal(400, error.StatusCode);
        Assert.Equal("invalid_request_error", error.Type);
        Assert.Equal(code, error.Code);
        Assert.Equal(param, error.Param);
        Assert.Equal(message, error.Message);
    }

    private static void AssertInvalidJson(string body, RequestKind kind)
    {
        var request = Parse(body, kind, out var error);

        Assert.Null(request);
        Assert.NotNull(error);
        Assert.Equal(400, error.StatusCode);
        Assert.Equal("invalid_request_error", error.Type);
        Assert.Equal("invalid_json", error.Code);
        Assert.Null(error.Param);
        Assert.StartsWith("The request body is not valid JSON: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ChatBody_ReadsModelAndStream()
    {
        var request = Parse("""{"model":"qwen2.5-7b","messages":[{"role":"user","content":"hi"}],"stream":true}""", RequestKind.Chat, out var error);

        Assert.Null(error);
        Assert.Equal(new InferenceRequest("qwen2.5-7b", Stream: true), request);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[],"max_tokens":64}""", true, 64)]
    [InlineData("""{"model":"m","messages":[],"max_completion_tokens":128}""", true, 128)]
    [InlineData("""{"max_completion_tokens":16,"model":"m","messages":[],"max_tokens":32}""", true, 32)]
    [InlineData("""{"model":"m","prompt":"hi","max_tokens":8}""", false, 8)]
    [InlineData("""{"model":"m","prompt":"hi","max_completion_tokens":8}""", false, null)]
    [InlineData("""{"model":"m","messages":[],"max_tokens":null}""", true, null)]
    [InlineData("""{"model":"m","messages":[],"max_tokens":0}""", true, null)]
    [InlineData("""{"model":"m","messages":[],"max_tokens":-5}""", true, null)]
    [InlineData("""{"model":"m","messages":[],"max_tokens":1.5}""", true, null)]
    [InlineData("""{"model":"m","messages":[],"max_tokens":"64"}""", true, null)]
    [InlineData("""{"model":"m","messages":[],"max_tokens":99999999999}""", true, null)]
    public void Parse_MaxTokens_IsReadWhenAPositiveWholeNumber_ElseLeftToTheReplica(string body, bool chat, int? expected)
    {
        var request = Parse(body, chat ? RequestKind.Chat : RequestKind.Text, out var error);

        Assert.Null(error);
        Assert.Equal(expected, request?.MaxTokens);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[],"stream":false}""")]
    [InlineData("""{"model":"m","messages":[],"stream":null}""")]
    [InlineData("""{"model":"m","messages":[]}""")]
    [InlineData(" \n {\"stream\" : false, \"messages\" : [ ], \"model\" : \"m\" } \n")]
    public void Parse_ChatBodyWithoutStreamTrue_DoesNotStream(string body)
    {
        var request = Parse(body, RequestKind.Chat, out var error);

        Assert.Null(error);
        Assert.Equal(new InferenceRequest("m", Stream: false), request);
    }

    [Theory]
    [InlineData("""{"model":"qwen2.5-7b","prompt":"Once upon a time","stream":true}""", true)]
    [InlineData("""{"model":"qwen2.5-7b","prompt":["a","b"]}""", false)]
    [InlineData("""{"model":"qwen2.5-7b","prompt":[[1,2,3]],"stream":false}""", false)]
    public void Parse_TextBody_ReadsModelAndStream(string body, bool stream)
    {
        var request = Parse(body, RequestKind.Text, out var error);

        Assert.Null(error);
        Assert.Equal(new InferenceRequest("qwen2.5-7b", stream, Kind: RequestKind.Text), request);
    }

    [Fact]
    public void Parse_UnknownFieldsAndNestedObjects_AreSkipped()
    {
        // Look-alike fields inside nested values must not be taken for the top-level ones.
        const string body = """
            {
              "temperature": 0.2,
              "metadata": {"model": 5, "messages": "x", "stream": "yes", "deep": [{"model": null}]},
              "messages": [{"role": "user", "content": "hi", "model": 7, "stream": "no"}],
              "tools": [[], {}, "s", 1, true, null],
              "model": "qwen2.5-7b",
              "stream": true,
              "max_tokens": 16
            }
            """;

        var request = Parse(body, RequestKind.Chat, out var error);

        Assert.Null(error);
        Assert.Equal(new InferenceRequest("qwen2.5-7b", Stream: true, MaxTokens: 16), request);
    }

    [Fact]
    public void Parse_ChatFieldInTextRequest_IsSkippedAndPromptIsStillRequired()
    {
        AssertRejected("""{"model":"m","messages":[]}""", RequestKind.Text, "missing_field", "prompt", "You must provide 'prompt'.");
    }

    [Theory]
    [InlineData("{\"model\":\"m\",")]
    [InlineData("{\"model\":\"m\",\"messages\":[}")]
    [InlineData("{'model':'m'}")]
    [InlineData("{\"model\":\"m\",\"messages\":[] // comment\n}")]
    [InlineData("")]
    public void Parse_MalformedJson_RejectsAsInvalidJson(string body)
    {
        AssertInvalidJson(body, RequestKind.Chat);
    }

    [Theory]
    [InlineData("{\"model\":\"m\",\"messages\":[]} x")]
    [InlineData("{\"model\":\"m\",\"messages\":[]}{}")]
    [InlineData("{\"model\":\"m\",\"messages\":[]}]")]
    public void Parse_TrailingGarbage_RejectsAsInvalidJson(string body)
    {
        AssertInvalidJson(body, RequestKind.Chat);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"model\"")]
    [InlineData("42")]
    [InlineData("null")]
    public void Parse_NotAnObject_RejectsAsInvalidJson(string body)
    {
        AssertRejected(body, RequestKind.Chat, "invalid_json", null, "The request body must be a JSON object.");
    }

    [Theory]
    [InlineData("""{"messages":[]}""")]
    [InlineData("""{"model":"","messages":[]}""")]
    public void Parse_MissingModel_RejectsNamingModel(string body)
    {
        AssertRejected(body, RequestKind.Chat, "missing_field", "model", "You must provide a 'model' string.");
    }

    [Theory]
    [InlineData("""{"model":5,"messages":[]}""")]
    [InlineData("""{"model":["m"],"messages":[]}""")]
    [InlineData("""{"model":{"name":"m"},"messages":[]}""")]
    [InlineData("""{"model":true,"messages":[]}""")]
    [InlineData("""{"model":null,"messages":[]}""")]
    public void Parse_ModelNotAString_RejectsNamingModel(string body)
    {
        AssertRejected(body, RequestKind.Chat, "invalid_type", "model", "'model' must be a string.");
    }

    [Fact]
    public void Parse_MissingMessages_RejectsNamingMessages()
    {
        AssertRejected("""{"model":"m","prompt":"hi"}""", RequestKind.Chat, "missing_field", "messages", "You must provide 'messages'.");
    }

    [Theory]
    [InlineData("""{"model":"m","messages":"hi"}""")]
    [InlineData("""{"model":"m","messages":{"role":"user"}}""")]
    [InlineData("""{"model":"m","messages":null}""")]
    public void Parse_MessagesNotAnArray_RejectsNamingMessages(string body)
    {
        AssertRejected(body, RequestKind.Chat, "invalid_type", "messages", "'messages' must be an array.");
    }

    [Theory]
    [InlineData("""{"model":"m","prompt":5}""")]
    [InlineData("""{"model":"m","prompt":{"text":"hi"}}""")]
    [InlineData("""{"model":"m","prompt":null}""")]
    public void Parse_PromptWrongType_RejectsNamingPrompt(string body)
    {
        AssertRejected(body, RequestKind.Text, "invalid_type", "prompt", "'prompt' must be a string or an array.");
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[],"stream":"true"}""")]
    [InlineData("""{"model":"m","messages":[],"stream":1}""")]
    [InlineData("""{"model":"m","messages":[],"stream":{}}""")]
    public void Parse_StreamNotABoolean_RejectsNamingStream(string body)
    {
        AssertRejected(body, RequestKind.Chat, "invalid_type", "stream", "'stream' must be true or false.");
    }

    [Theory]
    [InlineData("""{"model":"\udc00","messages":[]}""")]
    [InlineData("""{"model":"\ud800","messages":[]}""")]
    [InlineData("""{"model":"q\ud800\u0041","messages":[]}""")]
    [InlineData("""{"\udc00":1,"model":"m","messages":[]}""")]
    [InlineData("""{"mod\ud800el":"m","messages":[]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"\udc00"}]}""")]
    [InlineData("""{"model":"m","messages":[{"\ud800":"user"}]}""")]
    [InlineData("""{"model":"m","messages":[],"metadata":{"a":["\ud800\ud800"]}}""")]
    public void Parse_LoneSurrogateEscape_RejectsAsInvalidJson(string body)
    {
        AssertInvalidJson(body, RequestKind.Chat);
    }

    [Theory]
    [InlineData("""{"model":"\ud83d\ude00","messages":[{"role":"user","content":"\u00e9\ud83d\ude00\n"}]}""")]
    [InlineData("""{"model":"\uD83D\uDE00","messages":[]}""")]
    public void Parse_SurrogatePairEscape_IsAccepted(string body)
    {
        var request = Parse(body, RequestKind.Chat, out var error);

        Assert.Null(error);
        Assert.Equal(new InferenceRequest("\U0001F600", Stream: false), request);
    }

    [Theory]
    [InlineData("{\"model\":\"#\",\"messages\":[]}")]
    [InlineData("{\"#\":1,\"model\":\"m\",\"messages\":[]}")]
    [InlineData("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"#\"}]}")]
    public void Parse_InvalidUtf8_RejectsAsInvalidJson(string template)
    {
        // A lone continuation byte, a truncated two-byte sequence, an overlong encoding of '/', a UTF-16 surrogate encoded as UTF-8.
        byte[][] sequences = [[0x80], [0xC3], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xFF]];
        foreach (var sequence in sequences)
        {
            var at = template.IndexOf('#', StringComparison.Ordinal);
            byte[] body = [.. Encoding.UTF8.GetBytes(template[..at]), .. sequence, .. Encoding.UTF8.GetBytes(template[(at + 1)..])];

            var request = InferenceRequest.Parse(body, RequestKind.Chat, out var error);

            Assert.Null(request);
            Assert.NotNull(error);
            Assert.Equal(400, error.StatusCode);
            Assert.Equal("invalid_json", error.Code);
            Assert.Equal("The request body is not valid JSON: it is not valid UTF-8.", error.Message);
        }
    }
}

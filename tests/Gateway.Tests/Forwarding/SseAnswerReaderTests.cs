using System.Buffers;
using System.Text;
using Gateway.Forwarding;

namespace Gateway.Tests.Forwarding;

public sealed class SseAnswerReaderTests
{
    private const string Role = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n";
    private const string Token = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" hi\"},\"finish_reason\":null}]}\n\n";
    private const string Usage = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"total_tokens\":11,\"completion_tokens\":3}}\n\n";
    private const string Done = "data: [DONE]\n\n";

    private static (string Output, bool[] FirstText) Run(SseAnswerReader reader, params string[] chunks)
    {
        var output = new ArrayBufferWriter<byte>();
        var first = chunks.Select(c => reader.Read(Encoding.UTF8.GetBytes(c), output)).ToArray();
        reader.Complete(output);
        return (Encoding.UTF8.GetString(output.WrittenSpan), first);
    }

    [Fact]
    public void Read_RoleChunkThenToken_FirstTextIsTheTokenNotTheRole()
    {
        var reader = new SseAnswerReader(dropUsageEvents: false);

        var (output, first) = Run(reader, Role, ": keep-alive\n\n", Token, Token, Done);

        Assert.Equal([false, false, true, false, false], first);
        Assert.Equal(Role + ": keep-alive\n\n" + Token + Token + Done, output);
    }

    [Fact]
    public void Read_UsageChunk_IsReadAndKeptWhenTheClientAskedForIt()
    {
        var reader = new SseAnswerReader(dropUsageEvents: false);

        var (output, _) = Run(reader, Role + Token, Usage + Done);

        Assert.Equal(Role + Token + Usage + Done, output);
        Assert.Equal(8, reader.PromptTokens);
        Assert.Equal(3, reader.CompletionTokens);
    }

    [Fact]
    public void Read_UsageChunkTheGatewayAskedFor_IsReadAndLeftOut()
    {
        var reader = new SseAnswerReader(dropUsageEvents: true);

        var (output, _) = Run(reader, Role, Token, Usage, Done);

        Assert.Equal(Role + Token + Done, output);
        Assert.Equal(8, reader.PromptTokens);
        Assert.Equal(3, reader.CompletionTokens);
    }

    [Fact]
    public void Read_EventSplitAcrossChunks_IsPassedOnWholeOnceComplete()
    {
        var reader = new SseAnswerReader(dropUsageEvents: true);
        var split = Usage.Length / 2;

        var (output, first) = Run(reader, Token[..10], Token[10..] + Usage[..split], Usage[split..] + Done);

        Assert.Equal(Token + Done, output);
        Assert.Equal([false, true, false], first);
        Assert.Equal(3, reader.CompletionTokens);
    }

    [Fact]
    public void Read_CrLfLineEnds_AreUnderstood()
    {
        var reader = new SseAnswerReader(dropUsageEvents: true);

        var (output, first) = Run(reader, Token.Replace("\n\n", "\r\n\r\n", StringComparison.Ordinal), Usage.Replace("\n\n", "\r\n\r\n", StringComparison.Ordinal));

        Assert.Equal(Token.Replace("\n\n", "\r\n\r\n", StringComparison.Ordinal), output);
        Assert.Equal([true, false], first);
    }

    [Fact]
    public void Read_TextCompletionChunk_CountsAsText()
    {
        var reader = new SseAnswerReader(dropUsageEvents: false);

        var (_, first) = Run(reader, "data: {\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\" a\",\"finish_reason\":null}]}\n\n");

        Assert.Equal([true], first);
    }

    [Fact]
    public void Read_MalformedEventAndErrorEvent_PassThroughUntouched()
    {
        var reader = new SseAnswerReader(dropUsageEvents: true);
        const string broken = "data: {\"choices\":[{\n\n";
        const string error = "data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"param\":null,\"code\":\"x\"}}\n\n";

        var (output, first) = Run(reader, broken, error);

        Assert.Equal(broken + error, output);
        Assert.Equal([false, false], first);
        Assert.Null(reader.CompletionTokens);
    }

    [Fact]
    public void Complete_LeftoverIncompleteEvent_GoesToTheClientAsItIs()
    {
        var reader = new SseAnswerReader(dropUsageEvents: true);

        var (output, _) = Run(reader, Token, "data: {\"choi");

        Assert.Equal(Token + "data: {\"choi", output);
    }
}

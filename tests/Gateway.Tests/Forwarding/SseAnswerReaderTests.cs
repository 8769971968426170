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

    [Fact]
    public void Read_OneMegabyteEventWithoutBoundary_IsHeldOnlyUpToTheLookAhead_ThenPassedOnAsItComes()
    {
        using var reader = new SseAnswerReader(dropUsageEvents: true);
        var answer = Encoding.UTF8.GetBytes("data: " + new string('x', (1024 * 1024) - 6));
        const int chunkSize = 16 * 1024;
        var output = new ArrayBufferWriter<byte>();
        var written = new List<int>();

        for (var offset = 0; offset < answer.Length; offset += chunkSize)
        {
            Assert.False(reader.Read(answer.AsSpan(offset, chunkSize), output));
            written.Add(output.WrittenCount);
        }

        // Four chunks fill the 64 KiB look-ahead exactly; the fifth overflows it, and from then on every byte
        // is passed on in the chunk it came in, long before the answer ends.
        var expected = new List<int>();
        for (var i = 1; i <= answer.Length / chunkSize; i++)
        {
            expected.Add(i * chunkSize <= SseAnswerReader.MaxHeldEventBytes ? 0 : i * chunkSize);
        }

        Assert.Equal(65_536, SseAnswerReader.MaxHeldEventBytes);
        Assert.Equal(expected, written);
        Assert.Equal(81_920, written[4]);
        Assert.True(answer.AsSpan().SequenceEqual(output.WrittenSpan));
        reader.Complete(output);
        Assert.Equal(answer.Length, output.WrittenCount);
    }

    [Fact]
    public void Read_UsageEventOfExactlyTheLookAhead_IsLeftOut_OneByteLonger_IsPassedOnUnread()
    {
        var fits = PaddedUsage(SseAnswerReader.MaxHeldEventBytes);
        var over = PaddedUsage(SseAnswerReader.MaxHeldEventBytes + 1);
        using var fitting = new SseAnswerReader(dropUsageEvents: true);
        using var oversized = new SseAnswerReader(dropUsageEvents: true);

        // In pieces, so the event is held across chunks.
        var (fitOutput, _) = Run(fitting, Token, fits[..1000], fits[1000..], Done);
        var (overOutput, _) = Run(oversized, Token, over[..1000], over[1000..], Done);

        Assert.Equal(Token + Done, fitOutput);
        Assert.Equal(3, fitting.CompletionTokens);
        Assert.Equal(Token + over + Done, overOutput);
        Assert.Null(oversized.CompletionTokens);
    }

    [Fact]
    public void Read_OversizedEventWholeInOneChunk_IsPassedOnUnread()
    {
        var over = PaddedUsage(SseAnswerReader.MaxHeldEventBytes + 1);
        using var reader = new SseAnswerReader(dropUsageEvents: true);

        var (output, _) = Run(reader, Token + over + Usage + Done);

        Assert.Equal(Token + over + Done, output);
        Assert.Equal(3, reader.CompletionTokens);
    }

    [Fact]
    public void Read_AfterAnEventTooLargeToHold_TheSmallUsageEventIsStillLeftOut()
    {
        var large = "data: " + new string('x', 100_000) + "\n\n";
        using var reader = new SseAnswerReader(dropUsageEvents: true);

        var (output, first) = Run(reader, large[..70_000], large[70_000..] + Token[..20], Token[20..], Usage[..30], Usage[30..] + Done);

        Assert.Equal(large + Token + Done, output);
        Assert.Equal([false, false, true, false, false], first);
        Assert.Equal(8, reader.PromptTokens);
        Assert.Equal(3, reader.CompletionTokens);
    }

    [Fact]
    public void Read_CrLfStreamByteByByte_FindsEveryBoundaryAcrossChunks()
    {
        var token = Token.Replace("\n\n", "\r\n\r\n", StringComparison.Ordinal);
        var usage = Usage.Replace("\n\n", "\r\n\r\n", StringComparison.Ordinal);
        var done = Done.Replace("\n\n", "\r\n\r\n", StringComparison.Ordinal);
        var stream = token + usage + done;
        using var reader = new SseAnswerReader(dropUsageEvents: true);

        var (output, first) = Run(reader, [.. stream.Select(c => c.ToString())]);

        Assert.Equal(token + done, output);
        Assert.Equal(token.Length - 1, Array.IndexOf(first, true));
        Assert.Single(first, true);
        Assert.Equal(3, reader.CompletionTokens);
    }

    /// <summary>The usage event, its JSON padded with spaces to <paramref name="length"/> bytes in all.</summary>
    private static string PaddedUsage(int length)
    {
        var padding = new string(' ', length - Usage.Length);
        var padded = Usage.Replace("\"choices\":[],", "\"choices\":[]" + padding + ",", StringComparison.Ordinal);
        Assert.Equal(length, Encoding.UTF8.GetByteCount(padded));
        return padded;
    }
}

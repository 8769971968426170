using System.Text;
using Gateway.Forwarding;

namespace Gateway.Tests.Forwarding;

public sealed class ModelNamesTests
{
    [Fact]
    public void WithModel_TopLevelModel_IsReplaced_EverythingElseKeptByteForByte()
    {
        var body = """{ "messages": [{"role": "user", "content": "say \"model\": \"qwen\"", "model": "qwen"}], "model" : "qwen", "stream": true }"""u8;

        var rewritten = ModelNames.WithModel(body, "qwen-plus-latest");

        Assert.Equal(
            """{ "messages": [{"role": "user", "content": "say \"model\": \"qwen\"", "model": "qwen"}], "model" : "qwen-plus-latest", "stream": true }""",
            Encoding.UTF8.GetString(rewritten!));
    }

    [Fact]
    public void WithModel_NoModel_IsNull() => Assert.Null(ModelNames.WithModel("""{"messages":[]}"""u8, "x"));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(1000)]
    public async Task Rewriter_AnyChunking_RewritesEveryModelMemberOfTheProvidersName_AndNothingElse(int chunk)
    {
        const string Answer =
            "data: {\"id\":\"c1\",\"model\":\"qwen-plus-latest\",\"choices\":[{\"delta\":{\"content\":\"\\\"model\\\": \\\"qwen-plus-latest\\\"\"}}]}\n\n" +
            "data: {\"id\": \"c1\", \"model\" :  \"qwen-plus-latest\", \"usage\": {}}\n\n" +
            "data: {\"model\":\"qwen-plus-latest2\",\"other\":\"model\"}\n\n" +
            "data: [DONE]\n\n";
        const string Expected =
            "data: {\"id\":\"c1\",\"model\":\"qwen\",\"choices\":[{\"delta\":{\"content\":\"\\\"model\\\": \\\"qwen-plus-latest\\\"\"}}]}\n\n" +
            "data: {\"id\": \"c1\", \"model\" :  \"qwen\", \"usage\": {}}\n\n" +
            "data: {\"model\":\"qwen-plus-latest2\",\"other\":\"model\"}\n\n" +
            "data: [DONE]\n\n";
        using var output = new MemoryStream();
        var rewriter = new ModelNameRewriter(output, "qwen-plus-latest", "qwen");
        var bytes = Encoding.UTF8.GetBytes(Answer);

        for (var i = 0; i < bytes.Length; i += chunk)
        {
            await rewriter.WriteAsync(bytes.AsMemory(i, Math.Min(chunk, bytes.Length - i)));
        }

        await rewriter.CompleteAsync(CancellationToken.None);
        Assert.Equal(Expected, Encoding.UTF8.GetString(output.ToArray()));
        Assert.True(rewriter.ChangesLength);
    }

    [Fact]
    public async Task Rewriter_AnswerCutInsideAPossibleMatch_PassesTheHeldBytesOnAtTheEnd()
    {
        using var output = new MemoryStream();
        var rewriter = new ModelNameRewriter(output, "qwen-plus", "qwen");

        await rewriter.WriteAsync("{\"model\":\"qwen-pl"u8.ToArray());
        Assert.Equal("{", Encoding.UTF8.GetString(output.ToArray()));
        await rewriter.CompleteAsync(CancellationToken.None);

        Assert.Equal("{\"model\":\"qwen-pl", Encoding.UTF8.GetString(output.ToArray()));
    }
}

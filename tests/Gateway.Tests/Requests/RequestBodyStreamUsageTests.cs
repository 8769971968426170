using System.Text;
using System.Text.Json;
using Gateway.Requests;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Requests;

public sealed class RequestBodyStreamUsageTests
{
    [Theory]
    [InlineData("""{"model":"qwen","stream":true}""", """{"model":"qwen","stream":true,"stream_options":{"include_usage":true}}""")]
    [InlineData(" {\"stream\":true} \n", " {\"stream\":true,\"stream_options\":{\"include_usage\":true}} \n")]
    [InlineData("{ }", "{ \"stream_options\":{\"include_usage\":true}}")]
    public async Task WithStreamUsage_AddsTheMemberLast_KeepingEveryOtherByte(string sent, string forwarded)
    {
        using var body = await Read(sent);
        using var withUsage = body.WithStreamUsage();

        Assert.Equal(forwarded, Encoding.UTF8.GetString(withUsage!.Bytes));
    }

    [Fact]
    public async Task WithStreamUsage_ClientSentStreamOptionsNull_OursIsTheOneAReaderKeeps()
    {
        using var body = await Read("""{"model":"qwen","stream_options":null,"stream":true}""");
        using var withUsage = body.WithStreamUsage();

        // System.Text.Json, as Python's json, keeps the last of duplicate members.
        using var parsed = JsonDocument.Parse(withUsage!.Bytes);
        JsonElement last = default;
        foreach (var member in parsed.RootElement.EnumerateObject())
        {
            if (member.Name == "stream_options")
            {
                last = member.Value;
            }
        }

        Assert.True(last.GetProperty("include_usage").GetBoolean());
    }

    private static async Task<RequestBody> Read(string json)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(json));
        return (await RequestBody.ReadAsync(context.Request, 1024, CancellationToken.None))!;
    }
}

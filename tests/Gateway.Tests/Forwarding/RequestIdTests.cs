using Gateway.Forwarding;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Forwarding;

public sealed class RequestIdTests
{
    [Theory]
    [InlineData("abc-123")]
    [InlineData("!~")]
    [InlineData("0f3c2a1b-9d4e-4b7a-8c6d-5e4f3a2b1c0d")]
    public void Establish_SaneClientId_IsKeptSetAsTraceIdentifierAndEchoed(string sent)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["x-request-id"] = sent;

        var id = RequestId.Establish(context);

        Assert.Equal((sent, sent, sent), (id, context.TraceIdentifier, context.Response.Headers["x-request-id"].ToString()));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("tab\there")]
    [InlineData("caf\u00e9")]
    public void Establish_MissingOrInsaneClientId_MakesA32CharacterHexId(string? sent)
    {
        var context = new DefaultHttpContext();
        if (sent is not null)
        {
            context.Request.Headers["x-request-id"] = sent;
        }

        var id = RequestId.Establish(context);

        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.Equal((id, id), (context.TraceIdentifier, context.Response.Headers["x-request-id"].ToString()));
    }

    [Fact]
    public void IsSane_LengthBoundedAt128()
    {
        Assert.Equal((true, false), (RequestId.IsSane(new string('a', 128)), RequestId.IsSane(new string('a', 129))));
    }

    [Fact]
    public void Establish_TwoClientIds_MakesANewOne()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["x-request-id"] = new Microsoft.Extensions.Primitives.StringValues(["a", "b"]);

        Assert.Matches("^[0-9a-f]{32}$", RequestId.Establish(context));
    }
}

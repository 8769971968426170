using Gateway.Hosting;
using Gateway.Tenancy;

namespace Gateway.Tests.Hosting;

public sealed class HashKeyCommandTests : IDisposable
{
    private readonly StringWriter _output = new();
    private readonly StringWriter _error = new();

    public void Dispose()
    {
        _output.Dispose();
        _error.Dispose();
    }

    private int Run(string? input, params string[] args) =>
        HashKeyCommand.Run(args, new StringReader(input ?? "").ReadLine, _output, _error);

    [Fact]
    public void Run_KeyOnFirstLine_PrintsOnlyItsHash()
    {
        var exitCode = Run("sk-chat-example\nignored second line\n");

        Assert.Equal(0, exitCode);
        Assert.Equal(TenantDirectory.Hash("sk-chat-example") + Environment.NewLine, _output.ToString());
        Assert.Equal("", _error.ToString());
    }

    [Fact]
    public void Run_KeyWithCarriageReturnAndBlanks_HashesTheKeyAsTheGatewayReadsIt()
    {
        Run("  sk-chat-example \r\n");

        // TenantDirectory trims the presented key too, so the hash matches what the client sends.
        Assert.Equal(TenantDirectory.Hash("sk-chat-example") + Environment.NewLine, _output.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("   \n")]
    public void Run_NoKey_ExitsWith2AndPrintsNothing(string? input)
    {
        var exitCode = Run(input);

        Assert.Equal(2, exitCode);
        Assert.Equal("", _output.ToString());
        Assert.Equal("error: hash-key read no key; give it as the first line of standard input" + Environment.NewLine, _error.ToString());
    }

    [Fact]
    public void Run_KeyAsArgument_IsRefusedWithoutEchoingIt()
    {
        var exitCode = Run("sk-from-stdin\n", "sk-on-the-command-line");

        Assert.Equal(2, exitCode);
        Assert.Equal("", _output.ToString());
        Assert.DoesNotContain("sk-on-the-command-line", _error.ToString(), StringComparison.Ordinal);
    }
}

using System.Text;
using Gateway.Simulator.Engine;

namespace Gateway.Simulator.Tests.Engine;

public sealed class TokenTextTests
{
    [Theory]
    [InlineData("", 0)]
    [InlineData("Hello", 1)]
    [InlineData("Hello there, how are you?", 7)]
    [InlineData("  spaced   out  ", 2)]
    [InlineData("v1.2", 3)]
    public void CountTokens_CountsWordsAndPunctuation(string text, int tokens) =>
        Assert.Equal(tokens, TokenText.CountTokens(text));

    [Fact]
    public void Token_SameSeed_SameWords()
    {
        var seed = TokenText.RequestSeed(42, 7);
        var again = TokenText.RequestSeed(42, 7);

        Assert.Equal(Encoding.UTF8.GetString(TokenText.Token(seed, 3)), Encoding.UTF8.GetString(TokenText.Token(again, 3)));
        Assert.StartsWith(" ", Encoding.UTF8.GetString(TokenText.Token(seed, 0)), StringComparison.Ordinal);
        Assert.NotEqual(seed, TokenText.RequestSeed(43, 7));
    }
}

namespace Gateway.Planning.Tests.Synthetic;

public sealed class SyntheticSpecTests
{
    [Fact]
    public void Parse_NameAlone_TakesEveryDefault()
    {
        var spec = SyntheticSpec.Parse("poisson");

        Assert.Equal("poisson", spec.Name);
        Assert.Equal(1.5, spec.Double("rate", 1.5, 0));
        spec.EnsureAllRead();
    }

    [Fact]
    public void Parse_Pairs_AreReadByKey()
    {
        var spec = SyntheticSpec.Parse("bursty: minutes=30, rate=2.5 ,seed=-7,stream=true,max_tokens=8/16");

        Assert.Equal("bursty", spec.Name);
        Assert.Equal(30, spec.Double("minutes", 1, 0));
        Assert.Equal(2.5, spec.Double("rate", 1, 0));
        Assert.Equal(-7, spec.Int("seed", 1, int.MinValue));
        Assert.True(spec.Bool("stream", false));
        Assert.Equal([8, 16], spec.Ints("max_tokens", [1], 1));
        spec.EnsureAllRead();
    }

    [Theory]
    [InlineData(":rate=1", "synthetic trace ':rate=1': no name before the parameters (expected NAME or NAME:key=value,...)")]
    [InlineData("poisson:rate", "synthetic trace 'poisson': 'rate' is not key=value")]
    [InlineData("poisson:=1", "synthetic trace 'poisson': '=1' is not key=value")]
    [InlineData("poisson:rate=1,RATE=2", "synthetic trace 'poisson': RATE is given twice")]
    public void Parse_Malformed_SaysWhatIsWrong(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => SyntheticSpec.Parse(text));

        Assert.Equal(message, e.Message);
    }

    [Theory]
    [InlineData("rate=abc", "synthetic trace 'poisson': rate=abc is not a number above 0")]
    [InlineData("rate=0", "synthetic trace 'poisson': rate=0 is not a number above 0")]
    [InlineData("rate=NaN", "synthetic trace 'poisson': rate=NaN is not a number above 0")]
    [InlineData("minutes=2000", "synthetic trace 'poisson': minutes=2000 is not a number above 0 and at most 1440")]
    [InlineData("seed=1.5", "synthetic trace 'poisson': seed=1.5 is not a whole number of at least -2147483648")]
    [InlineData("max_tokens=16/x", "synthetic trace 'poisson': max_tokens=16/x is not whole numbers of at least 1 separated by '/'")]
    [InlineData("stream_share=2", "synthetic trace 'poisson': stream_share=2 is not a number from 0 to 1")]
    public void Create_BadValue_NamesTheKeyAndTheValue(string pair, string message)
    {
        var e = Assert.Throws<FormatException>(() => SyntheticWorkloads.Create("poisson:" + pair));

        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Create_UnknownKey_NamesItAndTheKnownOnes()
    {
        var e = Assert.Throws<FormatException>(() => SyntheticWorkloads.Create("seed-peak:clients=3,rate=2"));

        Assert.Equal("synthetic trace 'seed-peak': unknown key 'rate' (known: clients, minutes, stream, think_ms)", e.Message);
    }

    [Fact]
    public void Create_UnknownName_ListsTheKnownOnes()
    {
        var e = Assert.Throws<FormatException>(() => SyntheticWorkloads.Create("spiky:rate=2"));

        Assert.Equal("unknown synthetic trace 'spiky' (known: seed-peak, poisson, diurnal, bursty)", e.Message);
    }
}

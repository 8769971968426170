using Gateway.LoadTests.Tests.Support;

namespace Gateway.LoadTests.Tests;

/// <summary>A drill that cannot run says why and exits with 2, before starting anything.</summary>
public sealed class BadCommandLineExitsWithUsage
{
    [Theory]
    [InlineData("unknown drill 'soak'", "soak")]
    [InlineData("unknown option '--durtion'", "peak", "--durtion", "5s")]
    [InlineData("--duration: 'soon' is not a duration", "peak", "--duration", "soon")]
    [InlineData("--concurrency: '0' is not a whole number above 0", "peak", "--concurrency", "0")]
    [InlineData("only peak runs against a running one", "compare", "--gateway-url", "http://127.0.0.1:8080")]
    [InlineData("--sides: unknown side 'hpa': spillover, roundrobin, seed", "compare", "--sides", "seed,hpa")]
    [InlineData("--sides: 'seed,seed' names no side, or one twice", "compare", "--sides", "seed,seed")]
    [InlineData("--sides goes with compare or bridge", "peak", "--sides", "seed")]
    [InlineData("--sides: unknown side 'seed': bridge, gpu-only, budget", "bridge", "--sides", "seed")]
    [InlineData("--phases: unknown phase 'flood': kill, stall, 503, mid-stream-kill, scaler-failure, sigterm", "chaos", "--phases", "kill,flood")]
    [InlineData("--phases goes with chaos", "peak", "--phases", "kill")]
    [InlineData("only peak runs against a running one", "chaos", "--gateway-url", "http://127.0.0.1:8080")]
    public async Task BadArguments_Exit2WithTheReason(string reason, params string[] args)
    {
        using var run = new DrillRun();
        Assert.Equal(2, await run.RunAsync(args));
        Assert.Contains("error: ", run.Output.ToString(), StringComparison.Ordinal);
        Assert.Contains(reason, run.Output.ToString(), StringComparison.Ordinal);
        Assert.Contains("usage: Gateway.LoadTests DRILL", run.Output.ToString(), StringComparison.Ordinal);
    }
}

using System.Text;
using Gateway.Load;

namespace Gateway.Tests.Load;

public sealed class VllmLoadTests
{
    private static bool TryRead(string text, out VllmLoad load) => VllmLoad.TryRead(Encoding.UTF8.GetBytes(text), out load);

    [Fact]
    public void TryRead_VllmExposition_SumsCountsOverModelsAndTakesTheFullestKvCache()
    {
        // Running 3 + 2; waiting 1 + 0 (the -Inf series says nothing); KV the larger of 0.4375 and 0.8125, NaN left
        // out, and the newer name preferred over the old one's 0.99. The broken lines' 7s and 5s count for nothing.
        Assert.True(TryRead(VllmExposition.Text, out var load));

        Assert.Equal(new VllmLoad(Running: 5, Waiting: 1, KvCacheUsage: 0.8125), load);
    }

    [Fact]
    public void TryRead_OnlyTheOlderKvName_UsesIt()
    {
        const string text = """
            vllm:num_requests_running{model_name="qwen"} 2.0
            vllm:num_requests_waiting{model_name="qwen"} 0.0
            vllm:gpu_cache_usage_perc{model_name="qwen"} 0.97
            """;

        Assert.True(TryRead(text, out var load));

        Assert.Equal(new VllmLoad(2, 0, 0.97), load);
    }

    [Fact]
    public void TryRead_NoKvFigure_CountsTheCacheAsEmpty()
    {
        Assert.True(TryRead("vllm:num_requests_running 4\nvllm:num_requests_waiting 3\n", out var load));

        Assert.Equal(new VllmLoad(4, 3, 0), load);
    }

    [Theory]
    [InlineData("vllm:num_requests_waiting{model_name=\"qwen\"} 0\nvllm:kv_cache_usage_perc 0.5\n")]
    [InlineData("vllm:num_requests_running{model_name=\"qwen\"} 4\nvllm:kv_cache_usage_perc 0.5\n")]
    [InlineData("vllm:num_requests_running NaN\nvllm:num_requests_waiting 0\n")]
    [InlineData("vllm:num_requests_running{model_name=\"qwen\" 4\nvllm:num_requests_waiting 0\n")]
    [InlineData("<html><body>404 Not Found</body></html>")]
    [InlineData("")]
    public void TryRead_RunningOrWaitingMissing_Fails(string text)
    {
        Assert.False(TryRead(text, out var load));
        Assert.Equal(default, load);
    }

    [Fact]
    public void TryRead_FractionalAndNegativeCounts_AreRoundedAndNeverBelowZero()
    {
        Assert.True(TryRead("vllm:num_requests_running 2.6\nvllm:num_requests_waiting -1\nvllm:kv_cache_usage_perc 1.5\n", out var load));

        Assert.Equal(new VllmLoad(3, 0, 1), load);
    }

    [Fact]
    public void TryRead_EverySecondPerReplica_AllocatesNothing()
    {
        var bytes = Encoding.UTF8.GetBytes(VllmExposition.Text);
        VllmLoad.TryRead(bytes, out _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var read = VllmLoad.TryRead(bytes, out var load);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(read);
        Assert.Equal(5, load.Running);
        Assert.Equal(0, allocated);
    }
}

using Gateway.LoadTests.Tests.Support;

namespace Gateway.LoadTests.Tests;

/// <summary>
/// The tenants drill's short form: each phase against its own demo gateway with API keys, and in none is a request lost.
/// The on-prem-only tenant is never served by the cloud while the cloud serves the other tenant's spill (counted exactly);
/// two Standard tenants offering load 1:10 each get at least 40 % of the completions; and the Critical tenant's streams
/// are placed at once, their first token close to what it is alone, while a Sheddable flood fills the replicas.
/// </summary>
public sealed class TenantsShortFormKeepsEveryPromise
{
    [Fact]
    public async Task TenantsShort_EveryPhase_NothingLost_ResidentNeverOnCloud_FairShares_CriticalFirstTokenHeld()
    {
        // Three gateways one after the other, each with its replicas: under a minute alone, more beside the other drills.
        using var run = new DrillRun(TimeSpan.FromMinutes(4));
        var tenants = await run.RunShortAsync("tenants");

        Assert.Equal(["priority", "fairness", "residency"], tenants.At("phases").EnumerateArray().Select(p => p.GetString()));
        foreach (var name in new[] { "priority", "fairness", "residency" })
        {
            var phase = tenants.At(name);
            Assert.True(phase.Count("lost") == 0, $"{name}: lost {phase.At("tenants")}");
            foreach (var tenant in phase.At("tenants").EnumerateObject())
            {
                var counts = tenant.Value;
                Assert.Equal(counts.Count("requests"), counts.Count("completed") + counts.Count("cleanErrors") + counts.Count("lost"));
                Assert.True(counts.Count("completed") > 0, $"{name}: {tenant.Name} completed nothing:\n{run.Output}");
            }
        }

        // Residency: the OnPremOnly tenant's answers all came from on-prem, while the cloud served the other tenant; the
        // per-pool counts agree exactly with what each tenant's clients completed.
        var residency = tenants.At("residency");
        Assert.True(residency.At("countsMatchClients").GetBoolean(), $"per-pool counts disagree with the clients': {residency.At("byPool")} {residency.At("tenants")}");
        Assert.Equal(0, residency.Count("residentOnCloud"));
        Assert.True(residency.Count("generalOnCloud") > 0, $"the cloud served nobody: {residency.At("byPool")}");

        // Fairness: 2 clients against 20 on saturated capacity, and the light tenant still gets its turn.
        var fairness = tenants.At("fairness");
        Assert.Equal(2, fairness.Count("slots"));
        Assert.True(fairness.Number("minShare") >= 0.4, $"shares {fairness.At("shares")} of {fairness.At("completed")}");

        // Priority: the flood ran (batch completed work) and chat's requests found a slot free at once: the gateway placed
        // nearly all of them within 50 ms of arriving (without Classes:Sheddable:MaxSlotShare, 17 % in a short run: they
        // waited for a batch answer to end). That is the mechanism, measured where the machine's load does not reach it;
        // chat's TTFT at the client is held to loose bounds only, since a few seconds' sample on a shared 2-core machine
        // moves with the load (with the share, a p99 ratio of 1.84 at load average 14; the full runs' 1.2 x target is in
        // docs/benchmarks.md). The p99 bound still fails if chat waited behind the backlog instead of ahead of it.
        var priority = tenants.At("priority");
        Assert.True(priority.Count("batchCompletedDuringFlood") >= 10, $"no flood: {priority.At("tenants")}");
        Assert.Contains("Classes:Sheddable:MaxSlotShare=0.5", priority.At("classes").EnumerateArray().Select(c => c.GetString()));
        var waited = priority.At("chatQueueWaitUnderFlood");
        Assert.True(waited.Count("placed") >= 3, $"too few chat requests under the flood: {waited}");
        Assert.True(waited.Number("shareWithin50Ms") >= 0.9, $"chat waited for slots under the flood: {waited}");
        var alone = priority.At("chatFirstTokenAloneMs");
        var flood = priority.At("chatFirstTokenUnderFloodMs");
        Assert.True(alone.Count("count") >= 3 && flood.Count("count") >= 3, $"too few chat streams: {alone} {flood}");
        Report.AssertPercentiles(alone, alone.Count("count"));
        Report.AssertPercentiles(flood, flood.Count("count"));
        Assert.True(priority.Number("p50Ratio") <= CiP50Ratio, $"chat's TTFT p50 under the flood is {priority.Number("p50Ratio")} x alone: {alone} {flood}");
        Assert.True(priority.Number("p99Ratio") <= CiP99Ratio, $"chat's TTFT p99 under the flood is {priority.Number("p99Ratio")} x alone: {alone} {flood}");
    }

    /// <summary>Chat's TTFT p50 under the flood over alone that CI asserts.</summary>
    private const double CiP50Ratio = 1.5;

    /// <summary>Chat's TTFT p99 under the flood over alone that CI asserts (behind the backlog it would be about 8).</summary>
    private const double CiP99Ratio = 3;
}

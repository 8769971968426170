using System.Diagnostics.Metrics;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Telemetry;

public sealed class InferenceTelemetryTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    /// <summary>On-prem, cloud, and a provider of <paramref name="role"/>, in that order of placement.</summary>
    private static InferenceService Service(PoolRole role = PoolRole.Bridge, BalancingMode balancing = BalancingMode.SpillOver)
    {
        var provider = new PoolOptions
        {
            Name = "hosted",
            Priority = 2,
            Role = role,
            Provider = new ProviderSourceOptions { BaseUrl = "https://api.example.com/v1", MaxConcurrency = 2 },
        };
        var service = TestTopology.Service(Pool("on-prem", 0, 1, "http://10.0.0.1:8000"), Pool("cloud", 1, 1, "http://10.0.0.2:8000"), provider);
        service.Balancing = balancing;
        return Build(Options(service)).Services[0];
    }

    [Theory]
    [InlineData("on-prem", 1, null)]
    [InlineData("cloud", 1, "capacity")]
    [InlineData("cloud", 2, "retry")]
    [InlineData("hosted", 1, "bridge")]
    public void SpillReason_SaysWhyARequestLeftTheFirstPool(string pool, int attempts, string? reason)
    {
        var service = Service();

        Assert.Equal(reason, InferenceTelemetry.SpillReason(service, NewTenant("chat"), service.FindPool(pool)!, attempts));
    }

    [Fact]
    public void SpillReason_OverflowProvider_IsOverflow_AndRoundRobinNeverSpills()
    {
        var overflow = Service(PoolRole.Overflow);
        var roundRobin = Service(balancing: BalancingMode.RoundRobin);

        Assert.Equal("overflow", InferenceTelemetry.SpillReason(overflow, NewTenant("chat"), overflow.FindPool("hosted")!, 1));
        Assert.Null(InferenceTelemetry.SpillReason(roundRobin, NewTenant("chat"), roundRobin.FindPool("cloud")!, 1));
    }

    [Fact]
    public void SpillReason_CountsFromTheFirstPoolTheTenantMayRunOn()
    {
        var service = Service();
        var pinned = NewTenant("records", residency: Residency.OnPremOnly);

        Assert.Null(InferenceTelemetry.SpillReason(service, pinned, service.FindPool("on-prem")!, 1));
    }

    [Fact]
    public void Answered_NobodyListening_AllocatesNothing()
    {
        var telemetry = new InferenceTelemetry(_services.GetRequiredService<IMeterFactory>());
        var service = Service();
        var pool = service.FindPool("on-prem")!;
        telemetry.Answered("chat", service, "qwen2.5-7b", pool, 200, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(50), 10, 20);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            telemetry.Answered("chat", service, "qwen2.5-7b", pool, 200, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(50), 10, 20);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Answered_RecordsTheGenAiHistograms_WithAttributesFromConfigurationOnly()
    {
        var telemetry = new InferenceTelemetry(_services.GetRequiredService<IMeterFactory>());
        var service = Service();
        var recorded = new List<(string Name, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == InferenceTelemetry.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => recorded.Add((i.Name, v, Tags(tags))));
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => recorded.Add((i.Name, v, Tags(tags))));
        listener.Start();

        // A client's own spelling, and a name no service knows (it came by Host): both are recorded as configured.
        telemetry.Answered("chat", service, "QWEN2.5-7B", service.FindPool("cloud")!, 200, TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(300), 12, 34);
        telemetry.Answered("text_completion", service, "x-" + new string('y', 100), service.FindPool("on-prem")!, 503, TimeSpan.FromSeconds(1), null, null, null);

        Assert.Equal(
            [
                ("gen_ai.server.time_to_first_token", 0.3), ("gen_ai.client.token.usage", 12), ("gen_ai.client.token.usage", 34),
                ("gen_ai.client.operation.duration", 2), ("gen_ai.client.operation.duration", 1),
            ],
            recorded.Select(r => (r.Name, r.Value)));
        Assert.All(recorded, r => Assert.Equal("qwen2.5-7b", r.Tags["gen_ai.request.model"]));
        Assert.Equal(["input", "output"], recorded.Where(r => r.Name == "gen_ai.client.token.usage").Select(r => r.Tags["gen_ai.token.type"]));
        Assert.Equal(("cloud", "chat"), (recorded[0].Tags["gateway.pool"], recorded[0].Tags["gen_ai.operation.name"]));
        Assert.Equal("503", recorded[^1].Tags["error.type"]);
        Assert.False(recorded[^2].Tags.ContainsKey("error.type"));
    }

    private static Dictionary<string, object?> Tags(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var all = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            all[tag.Key] = tag.Value;
        }

        return all;
    }
}

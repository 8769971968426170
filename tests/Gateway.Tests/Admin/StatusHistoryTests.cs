using System.Text.Json;
using Gateway.Admin;
using Gateway.Admission;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Telemetry;
using Gateway.Tenancy;
using Gateway.Testing;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Tests.TestTopology;

namespace Gateway.Tests.Admin;

/// <summary>The gateway's samples of the last fifteen minutes, on a fake clock.</summary>
public sealed class StatusHistoryTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 3, 18, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly CancellationTokenSource _leave = new();
    private readonly ServiceQueues _queues;
    private readonly GatewayMetrics _metrics;
    private readonly InferenceService _service;
    private readonly TenantDirectory _directory;
    private readonly StatusHistory _history;

    public StatusHistoryTests()
    {
        var options = Options(Service(Pool("on-prem", 0, 1), Pool("cloud", 1, 2)));
        options.Auth = new AuthOptions { Mode = AuthMode.ApiKeys };
        options.Tenants =
        [
            new TenantOptions { Name = "chat", ApiKeyHashes = [TenantDirectory.Hash("sk-chat")] },
            new TenantOptions { Name = "batch", ApiKeyHashes = [TenantDirectory.Hash("sk-batch")] },
        ];
        var topology = new GatewayTopology(options);
        _directory = new TenantDirectory(options);
        _queues = WithQueues(topology, _time, new Random(1));
        _metrics = new GatewayMetrics(topology, _time, _directory.Attributable);
        _service = topology.Services[0];
        _history = new StatusHistory(topology, _directory, _queues, _metrics, _time);
    }

    private static long Ms(DateTimeOffset at) => at.ToUnixTimeMilliseconds();

    public void Dispose()
    {
        _leave.Cancel();
        _leave.Dispose();
    }

    [Fact]
    public async Task Sample_Traffic_RecordsServicePoolAndTenantNumbers_AndWhatWasServedSinceTheSampleBefore()
    {
        // On-prem full (1 of 1), cloud full (2 of 2 on its ready replica; one more replica still provisioning), one chat request waiting.
        Assert.True(Add(_service.OnPrem(), "http://10.0.0.1:8000").TryReserve());
        var cloud = Add(_service.Cloud(), "http://10.0.1.1:8000");
        Assert.True(cloud.TryReserve());
        Assert.True(cloud.TryReserve());
        Add(_service.Cloud(), "http://10.0.1.2:8000", ReplicaState.Provisioning);
        var chat = _directory.Tenants[0];
        var waiting = _queues[_service].AcquireAsync(chat, _leave.Token).AsTask();
        _metrics.Tenant(chat).InFlight.Inc(3);
        Answered("on-prem", 3);
        Answered("cloud", 1);
        _history.Sample();
        _time.Advance(TimeSpan.FromSeconds(1));
        Answered("cloud", 2);
        _history.Sample();

        using var json = Written(after: null);
        var root = json.RootElement;

        Assert.Equal((1, 900), (root.GetProperty("intervalSeconds").GetInt32(), root.GetProperty("capacity").GetInt32()));
        Assert.Equal(
            """[{"name":"qwen-chat","pools":[{"name":"on-prem","location":"onPrem"},{"name":"cloud","location":"cloud"}]}]""",
            root.GetProperty("services").GetRawText());
        Assert.Equal("""["chat","batch"]""", root.GetProperty("tenants").GetRawText());
        var samples = root.GetProperty("samples");
        Assert.Equal(2, samples.GetArrayLength());
        Assert.Equal(
            """
            {"at":START,"services":{"qwen-chat":{"demand":4,"inFlight":3,"waiting":1,"servedOnPrem":3,"servedCloud":1,"pools":{"on-prem":{"inFlight":1,"readyReplicas":1,"capacity":1,"served":3},"cloud":{"inFlight":2,"readyReplicas":1,"capacity":2,"served":1}}}},"tenants":{"chat":{"inFlight":3,"waiting":1},"batch":{"inFlight":0,"waiting":0}}}
            """.Replace("START", $"{Ms(Start)}", StringComparison.Ordinal),
            samples[0].GetRawText());
        Assert.Equal(Ms(Start) + 1000, samples[1].GetProperty("at").GetInt64());
        var second = samples[1].GetProperty("services").GetProperty("qwen-chat");
        Assert.Equal((0, 2), (second.GetProperty("servedOnPrem").GetInt32(), second.GetProperty("servedCloud").GetInt32()));
        Assert.Equal(2, second.GetProperty("pools").GetProperty("cloud").GetProperty("served").GetInt32());

        _leave.Cancel();
        await waiting;
    }

    [Fact]
    public void Write_After_WritesOnlyTheNewerSamples()
    {
        for (var i = 0; i < 3; i++)
        {
            _history.Sample();
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        using var json = Written(after: Ms(Start) + 1000);

        Assert.Equal([Ms(Start) + 2000], json.RootElement.GetProperty("samples").EnumerateArray().Select(s => s.GetProperty("at").GetInt64()));
    }

    [Fact]
    public void Sample_FifteenMinutesAndMore_KeepsTheLast900InAFixedBuffer()
    {
        var bytes = _history.Samples.Bytes;
        for (var i = 0; i < 1000; i++)
        {
            _history.Sample();
            _time.Advance(StatusHistory.Interval);
        }

        var (times, _) = _history.Samples.Read();

        Assert.Equal(900, times.Length);
        Assert.Equal(Ms(Start) + 100_000, times[0]);
        Assert.Equal(Ms(Start) + 999_000, times[^1]);

        // 1 service (5 numbers), 2 pools (4 each), 2 tenants (2 each): 17 numbers and a timestamp a sample.
        Assert.Equal(17, _history.Samples.Width);
        Assert.Equal(900 * ((17 * 4) + 8), bytes);
        Assert.Equal(bytes, _history.Samples.Bytes);
    }

    [Fact]
    public async Task Sampler_TakesASampleAtStart_ThenOneEveryIntervalOfTheClock()
    {
        using var sampler = new StatusSampler(_history, _time);
        await sampler.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.WaitAsync(() => Task.FromResult(_history.Samples.Count), n => n == 1, TimeSpan.FromSeconds(10), "the first sample");
            _time.Advance(TimeSpan.FromSeconds(1));
            await Eventually.WaitAsync(() => Task.FromResult(_history.Samples.Count), n => n == 2, TimeSpan.FromSeconds(10), "the second sample");
            _time.Advance(TimeSpan.FromSeconds(1));
            await Eventually.WaitAsync(() => Task.FromResult(_history.Samples.Count), n => n == 3, TimeSpan.FromSeconds(10), "the third sample");

            Assert.Equal([Ms(Start), Ms(Start) + 1000, Ms(Start) + 2000], _history.Samples.Read().Times);
        }
        finally
        {
            await sampler.StopAsync(CancellationToken.None);
        }
    }

    private void Answered(string pool, int count)
    {
        for (var i = 0; i < count; i++)
        {
            _metrics.Pool(_service.Name, pool).Answered(200);
        }
    }

    private JsonDocument Written(long? after)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            _history.Write(writer, after);
        }

        return JsonDocument.Parse(buffer.ToArray());
    }
}

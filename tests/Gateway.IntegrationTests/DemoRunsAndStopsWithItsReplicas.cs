using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.IntegrationTests.Support;
using Gateway.Testing;

namespace Gateway.IntegrationTests;

/// <summary>
/// The embedded demo (<c>config/gateway.json</c>) as an operator runs it: the gateway starts the on-prem simulator
/// as a child process (the elastic cloud pool starts empty), becomes ready, answers the seed's curl, and takes every
/// child with it when it stops, whether asked politely (Ctrl+C, SIGTERM) or killed outright.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class DemoRunsAndStopsWithItsReplicas
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    // The demo's own file, on ephemeral ports so tests can run beside a demo or each other.
    private static Task<GatewayProcess> StartDemoAsync() => GatewayProcess.StartAsync(
        "--config", GatewayProcess.DemoConfigPath,
        "--Gateway:PublicUrl=http://127.0.0.1:0",
        "--Gateway:AdminUrl=http://127.0.0.1:0");

    [Fact]
    public async Task Demo_BecomesReadyAndAnswersTheSeedsCurl()
    {
        await using var gateway = await StartDemoAsync();
        using var admin = new HttpClient { BaseAddress = gateway.AdminAddress };
        await WaitReadyAsync(admin);

        using var client = new HttpClient { BaseAddress = gateway.PublicAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent(
                """{"model": "qwen", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 16, "temperature": 0.7, "top_p": 0.9, "seed": 10, "stop":["<|endoftext|>", "<|im_end|>", "<|im_start|>"]}""",
                Encoding.UTF8,
                "application/json"),
        };
        request.Headers.Host = "qwen-chat-default.example.com";
        using var response = await client.SendAsync(request);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(16, answer.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        using var status = JsonDocument.Parse(await admin.GetStringAsync("admin/status"));
        var pools = status.RootElement.GetProperty("services")[0].GetProperty("pools");
        Assert.Equal("on-prem", pools[0].GetProperty("name").GetString());
        Assert.Equal(0, pools[0].GetProperty("priority").GetInt32());
        Assert.Equal(2, pools[0].GetProperty("capacityPerReplica").GetInt32());
        Assert.Equal(1, pools[0].GetProperty("replicas")[0].GetProperty("served").GetInt64());
        Assert.Equal("cloud-elastic", pools[1].GetProperty("name").GetString());
        Assert.Equal(1, pools[1].GetProperty("priority").GetInt32());
        Assert.Equal((1, 1), (pools[0].GetProperty("minReplicas").GetInt32(), pools[0].GetProperty("maxReplicas").GetInt32()));
        Assert.Equal(0, pools[1].GetProperty("minReplicas").GetInt32());
        Assert.Equal(2, pools[1].GetProperty("maxReplicas").GetInt32());
        Assert.Equal(0, pools[1].GetProperty("replicas").GetArrayLength());
    }

    [Theory]
    [InlineData("INT", 0)]
    [InlineData("TERM", 0)]
    public async Task Signal_StopsTheGatewayAndEveryChild(string signal, int exitCode)
    {
        await using var gateway = await StartDemoAsync();
        using var admin = new HttpClient { BaseAddress = gateway.AdminAddress };
        var children = await WaitReadyAsync(admin);

        await gateway.SignalAsync(signal);

        Assert.Equal(exitCode, await gateway.WaitForExitAsync(Deadline));
        foreach (var child in children)
        {
            Assert.False(IsAlive(child), $"replica process {child} outlived the gateway:\n{gateway.Output}");
        }
    }

    [Fact]
    public async Task KilledGateway_LeavesNoChildBehind()
    {
        await using var gateway = await StartDemoAsync();
        using var admin = new HttpClient { BaseAddress = gateway.AdminAddress };
        var children = await WaitReadyAsync(admin);

        await gateway.SignalAsync("KILL");
        await gateway.WaitForExitAsync(Deadline);

        foreach (var child in children)
        {
            await Eventually.WaitAsync(() => Task.FromResult(IsAlive(child)), alive => !alive, TimeSpan.FromSeconds(10), $"replica process {child} to end");
        }
    }

    [Fact]
    public async Task KilledGateway_AfterScalingOut_LeavesNoCloudReplicaBehind()
    {
        // A floor of 2 makes the scale controller start both cloud replicas itself, after start-up, from its own
        // loop: the parent-death signal must hold for children launched then too, not only for the first ones.
        await using var gateway = await GatewayProcess.StartAsync(
            "--config", GatewayProcess.DemoConfigPath,
            "--Gateway:PublicUrl=http://127.0.0.1:0",
            "--Gateway:AdminUrl=http://127.0.0.1:0",
            "--Gateway:Services:0:Pools:1:Scaling:MinReplicas=2",
            "--Gateway:Services:0:Pools:1:Scaling:ScaleOutWindowSeconds=0");
        using var admin = new HttpClient { BaseAddress = gateway.AdminAddress };
        var children = await Eventually.WaitAsync(
            async () => ReplicaProcessIds(await admin.GetStringAsync("admin/status")),
            pids => pids.Length == 3,
            Deadline,
            "the on-prem replica and two scaled-out cloud replicas to be launched");

        await gateway.SignalAsync("KILL");
        await gateway.WaitForExitAsync(Deadline);

        foreach (var child in children)
        {
            await Eventually.WaitAsync(() => Task.FromResult(IsAlive(child)), alive => !alive, TimeSpan.FromSeconds(10), $"replica process {child} to end");
        }
    }

    /// <summary>Waits for <c>/readyz</c> and returns the process id of the one replica the demo starts with (on-prem).</summary>
    private static async Task<int[]> WaitReadyAsync(HttpClient admin)
    {
        await Eventually.WaitAsync(
            async () => (await admin.GetAsync("readyz")).StatusCode, s => s == HttpStatusCode.OK, Deadline, "the demo to be ready");
        var pids = ReplicaProcessIds(await admin.GetStringAsync("admin/status"));
        Assert.Single(pids);
        Assert.All(pids, pid => Assert.True(IsAlive(pid)));
        return pids;
    }

    /// <summary>The process ids of the replicas <c>/admin/status</c> lists, launched ones only.</summary>
    private static int[] ReplicaProcessIds(string statusJson)
    {
        using var status = JsonDocument.Parse(statusJson);
        return status.RootElement.GetProperty("services")[0].GetProperty("pools").EnumerateArray()
            .SelectMany(p => p.GetProperty("replicas").EnumerateArray())
            .Where(r => r.TryGetProperty("pid", out var pid) && pid.ValueKind == JsonValueKind.Number)
            .Select(r => r.GetProperty("pid").GetInt32())
            .ToArray();
    }

    // A zombie (exited, not yet reaped) counts as gone: it runs nothing and holds no port.
    private static bool IsAlive(int pid)
    {
        var status = $"/proc/{pid}/status";
        if (!File.Exists(status))
        {
            return false;
        }

        try
        {
            return !File.ReadAllText(status).Contains("State:\tZ", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}

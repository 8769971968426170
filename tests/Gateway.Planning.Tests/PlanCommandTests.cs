using System.Text.Json;

namespace Gateway.Planning.Tests;

public sealed class PlanCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("plan-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string DemoPath()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var path = Path.Combine(folder.FullName, "config", "gateway.json");
            if (File.Exists(path) && File.Exists(Path.Combine(folder.FullName, "Gateway.sln")))
            {
                return path;
            }
        }

        throw new FileNotFoundException("config/gateway.json");
    }

    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = PlanCommand.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void SweepOfOnPremReplicas_OneRowEach_WithAReportAndAPicture()
    {
        var report = Path.Combine(_folder, "plan.json");
        var svg = Path.Combine(_folder, "plan.svg");

        var (code, output, error) = Run(
            "--config", DemoPath(), "--synthetic", "bursty:minutes=5", "--set", "Services:0:Pools:0:Process:Replicas=1,2",
            "--set", "Services:0:Pools:0:Cost:PerReplicaHour=1", "--report", report, "--svg", svg);

        Assert.True(code == 0, error);
        Assert.Contains("| Replicas=1 |", output, StringComparison.Ordinal);
        Assert.Contains("| Replicas=2 |", output, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        var plans = json.RootElement.GetProperty("plans").EnumerateArray().ToArray();
        Assert.Equal(2, plans.Length);

        // A second on-prem replica takes more of the load on-prem and needs less of the cloud.
        Assert.True(plans[1].GetProperty("on_prem_share").GetDouble() > plans[0].GetProperty("on_prem_share").GetDouble());
        Assert.True(plans[1].GetProperty("cloud_replica_seconds").GetDouble() < plans[0].GetProperty("cloud_replica_seconds").GetDouble());
        Assert.All(plans, p => Assert.True(p.GetProperty("oracle_replica_seconds").GetDouble() <= p.GetProperty("cloud_replica_seconds").GetDouble()));
        Assert.StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"", File.ReadAllText(svg), StringComparison.Ordinal);
        Assert.DoesNotContain("http://", File.ReadAllText(svg).Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--synthetic", "seed-peak", "--trace", "x.jsonl" }, "give either --synthetic NAME or --trace FILE")]
    [InlineData(new[] { "--synthetic", "spiky" }, "unknown synthetic trace 'spiky'")]
    [InlineData(new[] { "--synthetic", "seed-peak", "--set", "Services:0:Pools:0:Process:Replicas" }, "--set Services:0:Pools:0:Process:Replicas: give KEY=V1,V2,...")]
    [InlineData(new[] { "--synthetic", "seed-peak", "--set", "Services:0:Pools:0:Process:Replicaz=1" }, "Gateway:Services:0:Pools:0:Process:Replicaz: unknown setting")]
    [InlineData(new[] { "--synthetic", "seed-peak", "--set", "Services:0:TargetUtilization=0,0.8" }, "Services:0:TargetUtilization=0: ")]
    [InlineData(new[] { "--synthetic", "seed-peak", "--process-start", "-1" }, "--process-start: '-1' is not a number of seconds")]
    [InlineData(new[] { "--synthetic", "seed-peak", "--bogus" }, "unknown argument '--bogus'")]
    [InlineData(new[] { "--synthetic", "seed-peak", "--lateness-ms", "x" }, "--lateness-ms: 'x' is not a number of milliseconds")]
    [InlineData(new[] { "--synthetic" }, "--synthetic needs a value")]
    public void BadCommandLine_Exit2_NamingWhatToFix(string[] args, string message)
    {
        var (code, _, error) = Run(["--config", DemoPath(), .. args]);

        Assert.Equal(2, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void PoolWithoutSimulator_AsksForItsFlags_AndTakesThem()
    {
        var config = Path.Combine(_folder, "static.json");
        File.WriteAllText(config, """
            { "Gateway": { "Services": [ { "Name": "qwen-chat", "Models": [ "qwen" ],
              "Pools": [ { "Name": "on-prem", "CapacityPerReplica": 4, "Static": [ "http://10.0.0.1:8000" ] } ] } ] } }
            """);

        var (code, _, error) = Run("--config", config, "--synthetic", "seed-peak");
        var (flagged, output, _) = Run("--config", config, "--synthetic", "seed-peak:minutes=1", "--replica", "on-prem=--max-num-seqs 4 --time-to-first-token 100 --inter-token-latency 10");

        Assert.Equal(2, code);
        Assert.Contains("pool 'on-prem': the planner models replicas by the simulator flags they start with", error, StringComparison.Ordinal);
        Assert.Equal(0, flagged);
        Assert.Contains("| as configured |", output, StringComparison.Ordinal);
    }
}

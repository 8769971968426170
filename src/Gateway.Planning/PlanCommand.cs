using System.Globalization;
using System.Text;
using System.Text.Json;
using Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Planning;

/// <summary>
/// <c>dotnet run --project src/Gateway -- plan ...</c>: replays a recorded or synthetic trace against the gateway's
/// configuration, and against every combination of <c>--set</c> values, in virtual time; prints one table row per
/// combination, and writes a JSON report and the cost against TTFT p99 frontier on request. Exit codes: 0 done, 2 a bad
/// command line, configuration or trace (the message names what to fix).
/// </summary>
public static class PlanCommand
{
    /// <summary>What <c>plan --help</c> prints: the options, then every synthetic trace with its keys and defaults.</summary>
    public static string Usage => UsageHead + string.Concat(SyntheticWorkloads.All.Select(g => $"\n  {g.Name}: {g.Help}"));

    private const string UsageHead = """
        usage: Gateway plan (--synthetic NAME[:key=value,...] | --trace FILE) [options]

          --config FILE              the gateway configuration to plan from (default config/gateway.json)
          --synthetic SPEC           seed-peak, poisson, diurnal or bursty, e.g. bursty:minutes=30,rate=0.8 (docs/planning.md)
          --trace FILE               a request log (Gateway:RequestLog:Path) to replay; its rotated files (FILE.1, ...) too
          --set KEY=V1,V2,...        try each value of a configuration key (under Gateway), e.g.
                                     Services:0:Pools:0:Process:Replicas=1,2,3; several --set try every combination
          --report FILE              write the plans as JSON
          --svg FILE                 write the cost against TTFT p99 frontier as SVG
          --process-start SECONDS    a process replica's own start before its simulator's start-up (default 0.7)
          --replica POOL=FLAGS       simulator flags standing for POOL's replicas, for a pool that starts no simulator
          --lateness-ms MS           the most each of a replica's waits ends late, drawn evenly (default 7: the peak
                                     drill's replicas on this repository's 2-core test machine; 0 for exact timers)
          --seed N                   seed of placement's tie-breaking (default 1)

        synthetic traces (NAME:key=value,... with these keys and defaults):
        """;

    /// <summary>Runs the command; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        if (args.Any(a => a is "--help" or "-h"))
        {
            output.WriteLine(Usage);
            return 0;
        }

        try
        {
            var plan = PlanArguments.Parse(args);
            var report = Execute(plan);
            output.WriteLine(Table(report));
            if (plan.ReportPath is { } json)
            {
                File.WriteAllText(json, JsonSerializer.Serialize(report, JsonOptions));
                error.WriteLine($"report: {json}");
            }

            if (plan.SvgPath is { } svg)
            {
                File.WriteAllText(svg, Picture(report));
                error.WriteLine($"frontier: {svg}");
            }

            return 0;
        }
        catch (Exception e) when (e is PlanningException or FormatException or FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            error.WriteLine("error: " + e.Message);
            return 2;
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Replays the workload against every combination, two at a time on two cores, in the combinations' order.</summary>
    internal static PlanReport Execute(PlanArguments plan)
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.GetFullPath(plan.ConfigPath), optional: false).Build();
        var points = Sweep.Points(configuration, plan.Axes);
        var workload = plan.TracePath is { } trace
            ? RequestLogReader.Read(RequestLogReader.WithRotated(trace))
            : SyntheticWorkloads.Create(plan.Synthetic!);
        var settings = new ReplaySettings(TimeSpan.FromSeconds(plan.ProcessStartSeconds), plan.Seed, plan.ReplicaFlags, plan.LatenessMs);
        var rows = new PlanRow[points.Count];
        var failures = new PlanningException?[points.Count];
        Parallel.For(0, points.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            try
            {
                rows[i] = PlanRow.From(points[i], Replay.Run(points[i].Options, workload, settings), settings);
            }
            catch (PlanningException e)
            {
                failures[i] = e;
            }
        });
        if (failures.FirstOrDefault(f => f is not null) is { } failure)
        {
            throw failure;
        }

        return new PlanReport(plan.ConfigPath, plan.TracePath ?? plan.Synthetic!, Math.Round(workload.Duration.TotalSeconds, 1), rows);
    }

    /// <summary>The plans as a Markdown table, one row per combination.</summary>
    internal static string Table(PlanReport report)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Plan of {report.Workload} against {report.Config} ({report.WorkloadSeconds} s of traffic)");
        text.AppendLine();
        text.AppendLine("| plan | answered | rejected | on-prem share | cloud replica-s | cost | TTFT p50 | TTFT p99 | TTFT p99, histogram | queue wait p99 | oracle replica-s | cloud / oracle |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var row in report.Plans)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Plan} | {row.Answered} | {row.Rejected} | {row.OnPremShare:P1} | {row.CloudReplicaSeconds:F0} | {row.Cost:F3} | {row.TtftP50Seconds * 1000:F0} ms | {row.TtftP99Seconds * 1000:F0} ms | {row.TtftP99HistogramSeconds * 1000:F0} ms | {row.QueueWaitP99Seconds * 1000:F0} ms | {row.OracleReplicaSeconds:F0} | {(row.CostToOracle is { } ratio ? ratio.ToString("F2", CultureInfo.InvariantCulture) : "-")} |");
        }

        return text.ToString();
    }

    /// <summary>The frontier picture: in money when any pool has a price, else in cloud replica-seconds.</summary>
    private static string Picture(PlanReport report)
    {
        var priced = report.Plans.Any(p => p.Cost > 0);
        var points = report.Plans.Select(p => (p.Plan, priced ? p.Cost : p.CloudReplicaSeconds, p.TtftP99Seconds)).ToList();
        return FrontierPicture.Svg(points, priced ? "cost" : "cloud replica-seconds", $"{report.Workload}: cost against TTFT p99");
    }
}

/// <summary>The plan command's arguments, read and checked.</summary>
internal sealed record PlanArguments(
    string ConfigPath,
    string? Synthetic,
    string? TracePath,
    IReadOnlyList<SweepAxis> Axes,
    string? ReportPath,
    string? SvgPath,
    double ProcessStartSeconds,
    IReadOnlyDictionary<string, IReadOnlyList<string>> ReplicaFlags,
    int Seed,
    double LatenessMs)
{
    /// <summary>Reads the command line; a mistake is a <see cref="PlanningException"/> naming the flag.</summary>
    public static PlanArguments Parse(IReadOnlyList<string> args)
    {
        string config = Path.Combine("config", "gateway.json");
        string? synthetic = null, trace = null, report = null, svg = null;
        var axes = new List<SweepAxis>();
        var flags = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var processStart = 0.7;
        var seed = 1;
        var lateness = 7.0;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new PlanningException($"{name} needs a value");
            switch (name)
            {
                case "--config": config = Value(); break;
                case "--synthetic": synthetic = Value(); break;
                case "--trace": trace = Value(); break;
                case "--set": axes.Add(SweepAxis.Parse(Value())); break;
                case "--report": report = Value(); break;
                case "--svg": svg = Value(); break;
                case "--process-start": processStart = Number(name, Value(), 3600, "seconds"); break;
                case "--replica":
                    var replica = Value();
                    var equals = replica.IndexOf('=', StringComparison.Ordinal);
                    if (equals <= 0)
                    {
                        throw new PlanningException($"--replica {replica}: give POOL=\"--time-to-first-token 200 --inter-token-latency 30 ...\"");
                    }

                    flags[replica[..equals]] = replica[(equals + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    break;
                case "--lateness-ms": lateness = Number(name, Value(), 1000, "milliseconds"); break;
                case "--seed":
                    var seedText = Value();
                    if (!int.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out seed))
                    {
                        throw new PlanningException($"--seed: '{seedText}' is not a whole number");
                    }

                    break;
                default:
                    throw new PlanningException($"unknown argument '{name}' (see plan --help)");
            }
        }

        if ((synthetic is null) == (trace is null))
        {
            throw new PlanningException("give either --synthetic NAME or --trace FILE (see plan --help)");
        }

        if (!File.Exists(config))
        {
            throw new PlanningException($"--config: no file '{config}'");
        }

        if (trace is not null && !File.Exists(trace))
        {
            throw new PlanningException($"--trace: no file '{trace}'");
        }

        return new PlanArguments(config, synthetic, trace, axes, report, svg, processStart, flags, seed, lateness);
    }

    /// <summary>The number of <paramref name="unit"/> from 0 to <paramref name="most"/> in <paramref name="text"/>, the value of <paramref name="flag"/>.</summary>
    private static double Number(string flag, string text, double most, string unit) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 && value <= most
            ? value
            : throw new PlanningException($"{flag}: '{text}' is not a number of {unit} from 0 to {most.ToString(CultureInfo.InvariantCulture)}");
}

/// <summary>A plan command's result: what was replayed, and one row per combination.</summary>
internal sealed record PlanReport(string Config, string Workload, double WorkloadSeconds, IReadOnlyList<PlanRow> Plans);

/// <summary>One combination's figures, as the table and the JSON report give them.</summary>
internal sealed record PlanRow(
    string Plan,
    IReadOnlyDictionary<string, string> Settings,
    int Answered,
    int Rejected,
    IReadOnlyDictionary<string, int> RejectedByReason,
    double OnPremShare,
    double CloudReplicaSeconds,
    IReadOnlyDictionary<string, double> ReplicaSecondsByPool,
    IReadOnlyDictionary<string, int> ServedByPool,
    double Cost,
    double TtftP50Seconds,
    double TtftP99Seconds,
    double TtftP99HistogramSeconds,
    double QueueWaitP99Seconds,
    double? OracleReplicaSeconds,
    double? CostToOracle,
    double SimulatedSeconds)
{
    /// <summary>The row of <paramref name="point"/>, with the oracle's replica-seconds for the same demand on its elastic cloud pool.</summary>
    public static PlanRow From(SweepPoint point, ReplayResult result, ReplaySettings settings)
    {
        var oracle = Oracle(point.Options, result, settings);
        return new PlanRow(
            point.Label,
            point.Settings.ToDictionary(s => s.Key, s => s.Value),
            result.Answered,
            result.Rejected.Values.Sum(),
            result.Rejected,
            Math.Round(result.OnPremShare, 4),
            result.CloudReplicaSeconds,
            result.ReplicaSecondsByPool,
            result.ServedByPool,
            Math.Round(result.Cost, 4),
            result.TimeToFirstToken.P50,
            result.TimeToFirstToken.P99,
            Math.Round(result.TimeToFirstTokenHistogramP99, 4),
            result.QueueWaitP99,
            oracle is null ? null : Math.Round(oracle.Value, 1),
            oracle is > 0 ? Math.Round(result.CloudReplicaSeconds / oracle.Value, 2) : null,
            Math.Round(result.Simulated.TotalSeconds, 1));
    }

    /// <summary>
    /// The clairvoyant's cloud replica-seconds for the requests of this replay, each on a replica from its arrival for
    /// the time it took there: the on-prem GPU pools' slots, and the first elastic cloud GPU pool's replicas, its
    /// capacity, its boot and its maximum. Null when the configuration has no elastic cloud pool.
    /// </summary>
    private static double? Oracle(GatewayOptions options, ReplayResult result, ReplaySettings settings)
    {
        var service = options.Services[0];
        var onPremSlots = 0;
        PoolOptions? cloud = null;
        foreach (var pool in service.Pools.Where(p => p.Provider is null))
        {
            var location = pool.Location ?? (pool.Priority == 0 ? PoolLocation.OnPrem : PoolLocation.Cloud);
            if (location == PoolLocation.OnPrem)
            {
                var replicas = pool.Scaling?.MinReplicas ?? pool.Process?.Replicas ?? Math.Max(1, pool.Static.Count);
                onPremSlots += replicas * pool.CapacityPerReplica;
            }
            else if (pool.Scaling is not null && cloud is null)
            {
                cloud = pool;
            }
        }

        if (cloud is null)
        {
            return null;
        }

        IReadOnlyList<string>? flags = null;
        settings.ReplicaFlags?.TryGetValue(cloud.Name, out flags);
        var boot = ReplicaModel.For(cloud, flags, settings.ProcessStart).Boot.TotalSeconds;
        var demand = result.Demand.Select(d => new DemandInterval(d.Arrival, d.Arrival + d.Service)).ToList();
        return ClairvoyantOracle.Compute(demand, new OracleFleet(onPremSlots, cloud.CapacityPerReplica, boot, cloud.Scaling!.MaxReplicas)).ReplicaSeconds;
    }
}

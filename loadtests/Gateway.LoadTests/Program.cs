using System.Diagnostics;
using System.Runtime.InteropServices;
using Gateway.LoadTests.Drills;
using Gateway.LoadTests.Drills.Chaos;
using Gateway.LoadTests.Drills.Tenants;
using Gateway.LoadTests.Reports;

namespace Gateway.LoadTests;

/// <summary>
/// <c>dotnet run --project loadtests/Gateway.LoadTests -c Release -- DRILL [options]</c>: runs one drill, prints its
/// Markdown report on stdout and writes the JSON report. Exit codes: 0 done, 1 failed, 2 bad command line, 130
/// interrupted (Ctrl+C or SIGTERM, after stopping every process the drill started).
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["otlp-sink"])
        {
            // Not a drill: the collector the overhead benchmark exports to with tracing on (loadtests/gateway/overhead.sh OTLP=1).
            return await Targets.OtlpSink.RunAsync();
        }

        if (args is ["--help" or "-h"] or [_, "--help" or "-h"])
        {
            Console.Out.WriteLine(DrillOptions.Usage);
            return 0;
        }

        DrillOptions options;
        try
        {
            options = DrillOptions.Parse(args);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine("error: " + e.Message);
            Console.Error.WriteLine(DrillOptions.Usage);
            return 2;
        }

        // Ctrl+C and SIGTERM end the drill through its token, so every gateway it started is stopped on the way out.
        using var interrupted = new CancellationTokenSource();
        void Interrupt(PosixSignalContext context)
        {
            context.Cancel = true;
            interrupted.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);

        var startedAt = TimeProvider.System.GetUtcNow();
        var clock = Stopwatch.StartNew();
        var machine = MachineInfo.Current();
        try
        {
            (object result, string markdown) = options.Drill switch
            {
                "peak" => await Peak(options, interrupted.Token),
                "compare" => await Compare(options, interrupted.Token),
                "chaos" => await Chaos(options, interrupted.Token),
                "tenants" => await Tenants(options, interrupted.Token),
                "bridge" => await Bridge(options, interrupted.Token),
                _ => await Overhead(options, interrupted.Token),
            };
            var path = options.ReportPath ?? Repository.DefaultReportPath(options.Drill, options.Short, startedAt);
            await ReportFile.WriteAsync(path, new DrillReport(options.Drill, options.Short, startedAt, Math.Round(clock.Elapsed.TotalSeconds, 1), machine, result), CancellationToken.None);
            Console.Out.WriteLine($"## {options.Drill}{(options.Short ? " (short)" : "")}, {startedAt:yyyy-MM-dd HH:mm} UTC, {machine.ProcessorCount} cores");
            Console.Out.WriteLine();
            Console.Out.WriteLine(markdown);
            Console.Error.WriteLine($"report: {path}");
            return 0;
        }
        catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
        {
            Console.Error.WriteLine("interrupted: every process the drill started is stopped");
            return 130;
        }
#pragma warning disable CA1031 // Whatever failed, the processes are stopped by now (await using); say what and exit 1.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Console.Error.WriteLine($"error: the {options.Drill} drill failed: {e}");
            return 1;
        }
    }

    private static async Task<(object, string)> Peak(DrillOptions options, CancellationToken cancellationToken)
    {
        var peak = await PeakDrill.RunAsync(options, [], "peak", cancellationToken);
        return (peak, PeakMarkdown.Render(peak));
    }

    private static async Task<(object, string)> Compare(DrillOptions options, CancellationToken cancellationToken)
    {
        var compare = await CompareDrill.RunAsync(options, cancellationToken);
        List<PeakColumn> columns = [];
        foreach (var side in compare.Sides)
        {
            var peak = side switch
            {
                CompareDrill.SpillOverSide => compare.SpillOver,
                CompareDrill.RoundRobinSide => compare.RoundRobin,
                _ => compare.Seed,
            };
            columns.Add(new PeakColumn(side, compare.Scaling[side], peak!));
        }

        return (compare, PeakMarkdown.Render(columns) + $"Cloud replica-seconds are counted {compare.CloudReplicaSecondsSpan}.{Environment.NewLine}");
    }

    private static async Task<(object, string)> Chaos(DrillOptions options, CancellationToken cancellationToken)
    {
        var chaos = await ChaosDrill.RunAsync(options, cancellationToken);
        return (chaos, ChaosMarkdown.Render(chaos));
    }

    private static async Task<(object, string)> Bridge(DrillOptions options, CancellationToken cancellationToken)
    {
        var columns = await BridgeDrill.RunAsync(options, cancellationToken);
        return (columns, PeakMarkdown.Render(columns));
    }

    private static async Task<(object, string)> Tenants(DrillOptions options, CancellationToken cancellationToken)
    {
        var tenants = await TenantsDrill.RunAsync(options, cancellationToken);
        return (tenants, TenantsMarkdown.Render(tenants));
    }

    private static async Task<(object, string)> Overhead(DrillOptions options, CancellationToken cancellationToken)
    {
        var overhead = await OverheadDrill.RunAsync(options, cancellationToken);
        return (overhead, OverheadDrill.Markdown(overhead));
    }
}

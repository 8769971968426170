namespace Gateway.LoadTests.Reports;

/// <summary>The JSON file of one drill run: which drill, when, on what machine, and its results.</summary>
internal sealed record DrillReport(string Drill, bool Short, DateTimeOffset StartedAt, double ElapsedSeconds, MachineInfo Machine, object Result);

/// <summary>The machine the figures come from: they mean little without it.</summary>
internal sealed record MachineInfo(int ProcessorCount, string Os, string Runtime, double LoadAverage1MinuteAtStart)
{
    public static MachineInfo Current()
    {
        var load = 0.0;
        try
        {
            load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            // Not Linux: no load average.
        }

        return new MachineInfo(Environment.ProcessorCount, System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription, load);
    }
}

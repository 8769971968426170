using System.Text.Json;
using Gateway.Testing;

namespace Gateway.LoadTests.Tests.Support;

/// <summary>
/// One drill run as a real process (<c>dotnet Gateway.LoadTests.dll DRILL --short --report FILE</c>), its report read
/// back as JSON. Each run has its own report folder, and the drill picks free ports, so runs go in parallel.
/// </summary>
internal sealed class DrillRun : IDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("drill-test-");
    private readonly TimeSpan _timeout;

    /// <param name="timeout">How long the drill may run before the test fails (2 minutes unless given).</param>
    public DrillRun(TimeSpan? timeout = null)
    {
        ReportPath = Path.Combine(_folder.FullName, "report.json");
        _timeout = timeout ?? DefaultTimeout;
    }

    public string ReportPath { get; }

    public OutputLog Output { get; } = new();

    /// <summary>Starts the drill with <paramref name="args"/>, its output going to <see cref="Output"/>; disposing it kills it and its tree.</summary>
    public Task<ChildProcess> StartAsync(params string[] args) => DotnetProcess.StartAsync("Gateway.LoadTests.dll", args, Output);

    /// <summary>Runs the drill to its end and returns its exit code.</summary>
    public async Task<int> RunAsync(params string[] args)
    {
        await using var drill = await StartAsync(args);
        try
        {
            return await drill.WaitForExitAsync(_timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the drill did not end within {_timeout.TotalSeconds} s:\n{Output}");
        }
    }

    /// <summary>Runs <c>DRILL --short --report FILE [args]</c>, asserts it succeeded, and returns the report's <c>result</c>.</summary>
    public async Task<JsonElement> RunShortAsync(string drill, params string[] args)
    {
        var exit = await RunAsync([drill, "--short", "--report", ReportPath, .. args]);
        Assert.True(exit == 0, $"{drill} --short exited with {exit}:\n{Output}");
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(ReportPath));
        Assert.Equal(drill, report.RootElement.GetProperty("drill").GetString());
        Assert.True(report.RootElement.GetProperty("short").GetBoolean());
        Assert.Equal(Environment.ProcessorCount, report.RootElement.GetProperty("machine").GetProperty("processorCount").GetInt32());
        return report.RootElement.GetProperty("result").Clone();
    }

    public void Dispose() => _folder.Delete(recursive: true);
}

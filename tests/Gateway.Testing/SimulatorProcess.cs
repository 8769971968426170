using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Gateway.Testing;

/// <summary>
/// The simulator as a real process on a loopback port chosen by the OS (<c>--port 0</c>); the port is read
/// from the line the simulator prints once it listens. Disposing kills the process.
/// </summary>
public sealed partial class SimulatorProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly ChildProcess _process;

    private SimulatorProcess(ChildProcess process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    /// <summary>The simulator's root address, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; private set; }

    /// <summary>Everything the process wrote so far, for failure messages.</summary>
    public string Output => _process.Output.ToString();

    /// <summary>Path of the simulator's dll, built beside the tests through the project reference.</summary>
    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "Gateway.Simulator.dll");

    /// <summary>Starts a process that runs the simulator with <paramref name="args"/> and no waiting for a port.</summary>
    public static Process StartRaw(params string[] args) => DotnetProcess.Start("Gateway.Simulator.dll", args);

    /// <summary>Starts the simulator on a free port and waits until it listens.</summary>
    public static Task<SimulatorProcess> StartAsync(params string[] args) => StartOnPortAsync(0, args);

    /// <summary>Starts the simulator on <paramref name="port"/> (0: a free one) and waits until it listens, e.g. to bring a killed replica back at its address.</summary>
    public static async Task<SimulatorProcess> StartOnPortAsync(int port, params string[] args)
    {
        var (process, listening) = await DotnetProcess.StartListeningAsync(
            "Gateway.Simulator.dll", ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. args], ListeningLine(), StartTimeout);
        return new SimulatorProcess(process, new Uri(listening.Groups[1].Value + "/"));
    }

    /// <summary>
    /// Starts the simulator on a free port with <paramref name="environment"/> added to this process's own (the
    /// <c>OTEL_*</c> variables it reads for tracing, say) and waits until it listens.
    /// </summary>
    public static async Task<SimulatorProcess> StartWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var (process, listening) = await DotnetProcess.StartListeningAsync(
            "Gateway.Simulator.dll", ["--port", "0", .. args], ListeningLine(), StartTimeout, environment: environment);
        return new SimulatorProcess(process, new Uri(listening.Groups[1].Value + "/"));
    }

    /// <summary>An HTTP client aimed at the simulator.</summary>
    public HttpClient CreateHttpClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>The <c>/v1</c> endpoint the OpenAI SDK is pointed at.</summary>
    public Uri OpenAIEndpoint => new(BaseAddress, "v1");

    /// <summary>Kills the process at once (SIGKILL), as a crash would, and waits until it is gone.</summary>
    public Task KillAsync() => _process.KillAsync();

    /// <summary>Asks the simulator to stop (SIGTERM), as an orchestrator would, killing it if still running after <paramref name="grace"/>.</summary>
    public Task StopAsync(TimeSpan grace) => _process.StopAsync(grace);

    /// <summary>Whether the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    [GeneratedRegex(@"listening on (https?://\S+)")]
    private static partial Regex ListeningLine();
}

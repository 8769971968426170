using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Testing;

/// <summary>
/// The simulator as a real process on a loopback port chosen by the OS (<c>--port 0</c>); the port is read
/// from the line the simulator prints once it listens. Disposing kills the process.
/// </summary>
public sealed partial class SimulatorProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private int _disposed;

    private SimulatorProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    /// <summary>The simulator's root address, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; private set; }

    /// <summary>Everything the process wrote so far, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Path of the simulator's dll, built beside the tests through the project reference.</summary>
    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "Gateway.Simulator.dll");

    /// <summary>Starts a process that runs the simulator with <paramref name="args"/> and no waiting for a port.</summary>
    public static Process StartRaw(params string[] args)
    {
        var info = new ProcessStartInfo(DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(DllPath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("could not start the simulator");
    }

    /// <summary>Starts the simulator on a free port and waits until it listens.</summary>
    public static Task<SimulatorProcess> StartAsync(params string[] args) => StartOnPortAsync(0, args);

    /// <summary>Starts the simulator on <paramref name="port"/> (0: a free one) and waits until it listens, e.g. to bring a killed replica back at its address.</summary>
    public static async Task<SimulatorProcess> StartOnPortAsync(int port, params string[] args)
    {
        var process = StartRaw(["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. args]);
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                listening.TrySetException(new InvalidOperationException("the simulator exited before listening:\n" + Snapshot(output)));
                return;
            }

            Append(output, e.Data);
            var match = ListeningLine().Match(e.Data);
            if (match.Success)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value + "/"));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Append(output, e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            var address = await listening.Task.WaitAsync(StartTimeout);
            var simulator = new SimulatorProcess(process, address);
            simulator._output.Append(Snapshot(output));
            return simulator;
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>An HTTP client aimed at the simulator.</summary>
    public HttpClient CreateHttpClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>The <c>/v1</c> endpoint the OpenAI SDK is pointed at.</summary>
    public Uri OpenAIEndpoint => new(BaseAddress, "v1");

    /// <summary>Kills the process at once (SIGKILL), as a crash would, and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await KillAsync();
        _process.Dispose();
    }

    private static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private static void Append(StringBuilder output, string line)
    {
        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    [GeneratedRegex(@"listening on (http://\S+)")]
    private static partial Regex ListeningLine();
}

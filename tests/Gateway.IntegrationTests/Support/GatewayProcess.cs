using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.IntegrationTests.Support;

/// <summary>
/// The gateway host (<c>Gateway.dll</c>, built beside the tests) as a real process, for what only a process
/// can show: exit codes, signals, and the child replicas it leaves behind or not.
/// </summary>
internal sealed partial class GatewayProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _output;

    private GatewayProcess(Process process, StringBuilder output, Uri publicAddress, Uri adminAddress)
    {
        _process = process;
        _output = output;
        PublicAddress = publicAddress;
        AdminAddress = adminAddress;
    }

    public Uri PublicAddress { get; }

    public Uri AdminAddress { get; }

    public int Id => _process.Id;

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

    /// <summary>The repository's <c>config/gateway.json</c>: the embedded demo.</summary>
    public static string DemoConfigPath
    {
        get
        {
            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            {
                var candidate = Path.Combine(folder.FullName, "config", "gateway.json");
                if (File.Exists(candidate) && File.Exists(Path.Combine(folder.FullName, "Gateway.sln")))
                {
                    return candidate;
                }
            }

            throw new FileNotFoundException("config/gateway.json not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Starts the gateway and waits for the line it prints once both listeners are bound.</summary>
    public static async Task<GatewayProcess> StartAsync(params string[] args)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Gateway.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the gateway");
        var output = new StringBuilder();
        var listening = new TaskCompletionSource<(Uri, Uri)>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                listening.TrySetException(new InvalidOperationException("the gateway exited before listening:\n" + Snapshot(output)));
                return;
            }

            Append(output, e.Data);
            var match = ListeningLine().Match(e.Data);
            if (match.Success)
            {
                listening.TrySetResult((new Uri(match.Groups[1].Value), new Uri(match.Groups[2].Value)));
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
            var (publicAddress, adminAddress) = await listening.Task.WaitAsync(StartTimeout);
            return new GatewayProcess(process, output, publicAddress, adminAddress);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Sends a signal (<c>INT</c>, <c>TERM</c>, <c>KILL</c>) to the gateway alone, not to its children.</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits for the gateway to exit and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

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

    [GeneratedRegex(@"Gateway listening on (http://\S+) \(admin (http://\S+)\)")]
    private static partial Regex ListeningLine();
}

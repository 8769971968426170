using System.Text.RegularExpressions;
using Gateway.Testing;

namespace Gateway.IntegrationTests.Support;

/// <summary>
/// The gateway host (<c>Gateway.dll</c>, built beside the tests) as a real process, for what only a process
/// can show: exit codes, signals, and the child replicas it leaves behind or not.
/// </summary>
internal sealed partial class GatewayProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly ChildProcess _process;

    private GatewayProcess(ChildProcess process, Uri publicAddress, Uri adminAddress)
    {
        _process = process;
        PublicAddress = publicAddress;
        AdminAddress = adminAddress;
    }

    public Uri PublicAddress { get; }

    public Uri AdminAddress { get; }

    public int Id => _process.Id;

    public string Output => _process.Output.ToString();

    /// <summary>The repository's <c>config/gateway.json</c>: the embedded demo.</summary>
    public static string DemoConfigPath => ConfigPath("gateway.json");

    /// <summary>The repository's <c>config/examples/{name}</c>, as the README and the docs run it.</summary>
    public static string ExampleConfigPath(string name) => ConfigPath(Path.Combine("examples", name));

    private static string ConfigPath(string relative)
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "config", relative);
            if (File.Exists(candidate) && File.Exists(Path.Combine(folder.FullName, "Gateway.sln")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"config/{relative} not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Starts the gateway and waits for the line it prints once both listeners are bound.</summary>
    public static Task<GatewayProcess> StartAsync(params string[] args) => StartWithEnvironmentAsync(null, args);

    /// <summary>As <see cref="StartAsync"/>, with <paramref name="environment"/> added to the gateway's (the <c>OTEL_*</c> variables, say).</summary>
    public static async Task<GatewayProcess> StartWithEnvironmentAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var (process, listening) = await DotnetProcess.StartListeningAsync("Gateway.dll", args, ListeningLine(), StartTimeout, environment: environment);
        return new GatewayProcess(process, new Uri(listening.Groups[1].Value), new Uri(listening.Groups[2].Value));
    }

    /// <summary>
    /// Starts the gateway on a configuration written to <paramref name="folder"/>: service <c>qwen-chat</c> with one
    /// static pool of capacity 10 on <paramref name="simulator"/>, the given drain timeout, and a Retry-After of 3 s.
    /// </summary>
    public static async Task<GatewayProcess> StartDrainingAsync(SimulatorProcess simulator, string folder, int drainTimeoutSeconds)
    {
        var config = Path.Combine(folder, "gateway.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "Gateway": {
                "PublicUrl": "http://127.0.0.1:0",
                "AdminUrl": "http://127.0.0.1:0",
                "DrainTimeoutSeconds": {{drainTimeoutSeconds}},
                "Services": [
                  {
                    "Name": "qwen-chat",
                    "Models": [ "qwen" ],
                    "Queue": { "RetryAfterSeconds": 3 },
                    "Pools": [ { "Name": "on-prem", "CapacityPerReplica": 10, "Static": [ "{{simulator.BaseAddress.ToString().TrimEnd('/')}}" ] } ]
                  }
                ]
              }
            }
            """);
        return await StartAsync("--config", config);
    }

    /// <summary>Sends a signal (<c>INT</c>, <c>TERM</c>, <c>KILL</c>) to the gateway alone, not to its children.</summary>
    public async Task SignalAsync(string signal) =>
        Assert.True(await _process.SignalAsync(signal), $"kill -{signal} {Id} failed:\n{Output}");

    /// <summary>Waits for the gateway to exit and returns its exit code.</summary>
    public Task<int> WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync(timeout);

    /// <summary>Kills the gateway and its replicas at once; tests about a graceful stop send the signal themselves.</summary>
    public ValueTask DisposeAsync() => _process.DisposeAsync();

    [GeneratedRegex(@"Gateway listening on (http://\S+) \(admin (http://\S+)\)")]
    private static partial Regex ListeningLine();
}

using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Gateway.Testing;

namespace Gateway.LoadTests.Targets;

/// <summary>
/// The gateway a drill sends to: either one already running (given by its URLs), or the built host
/// (<c>dotnet Gateway.dll</c>) started by the drill on free loopback ports and stopped at its end with SIGTERM, so it
/// stops the replicas it started (see <see cref="DrillProcess"/> for the other ways out).
/// </summary>
internal sealed partial class GatewayUnderTest : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly ChildProcess? _process;

    private GatewayUnderTest(Uri publicAddress, Uri? adminAddress, ChildProcess? process)
    {
        PublicAddress = publicAddress;
        AdminAddress = adminAddress;
        _process = process;
    }

    public Uri PublicAddress { get; }

    public Uri? AdminAddress { get; }

    /// <summary>The gateway's process when the drill started it, for its memory figures.</summary>
    public ChildProcess? Process => _process;

    /// <summary>A gateway somebody else runs; the drill neither starts nor stops it.</summary>
    public static GatewayUnderTest Attach(Uri publicAddress, Uri? adminAddress) => new(publicAddress, adminAddress, null);

    /// <summary>
    /// Starts the gateway with <paramref name="configPath"/> and <paramref name="overrides"/> (<c>--Gateway:Key=value</c>)
    /// on free ports, and waits until <c>/readyz</c> answers 200.
    /// </summary>
    public static async Task<GatewayUnderTest> StartAsync(string configPath, IEnumerable<string> overrides, CancellationToken cancellationToken)
    {
        string[] args = ["--config", configPath, "--Gateway:PublicUrl=http://127.0.0.1:0", "--Gateway:AdminUrl=http://127.0.0.1:0", .. overrides];
        var (process, listening) = await DrillProcess.StartListeningAsync("Gateway.dll", args, ListeningLine(), StartTimeout);
        var gateway = new GatewayUnderTest(new Uri(listening.Groups[1].Value), new Uri(listening.Groups[2].Value), process);
        try
        {
            await gateway.WaitReadyAsync(process, cancellationToken);
            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }

    private async Task WaitReadyAsync(ChildProcess process, CancellationToken cancellationToken)
    {
        using var admin = LoadClient.Create(TimeSpan.FromSeconds(5));
        var deadline = Stopwatch.GetTimestamp() + (long)(StartTimeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException("the gateway exited before it was ready:\n" + process.Output);
            }

            try
            {
                using var ready = await admin.GetAsync(new Uri(AdminAddress!, "readyz"), cancellationToken);
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not answering yet.
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"the gateway was not ready within {StartTimeout.TotalSeconds} s:\n{process.Output}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    [GeneratedRegex(@"Gateway listening on (http://\S+) \(admin (http://\S+)\)")]
    private static partial Regex ListeningLine();
}

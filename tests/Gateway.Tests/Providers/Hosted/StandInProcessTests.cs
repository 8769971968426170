using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers;
using Gateway.Providers.Hosted;
using Gateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Gateway.Tests.Providers.Hosted;

/// <summary>
/// A provider pool's stand-in, the simulator over TLS, started by the pool's provider as the gateway starts it: on
/// BaseUrl's port, with the made certificate and the pool's key in its environment, ready only once it answers, started
/// again when it dies, and gone when the provider stops.
/// </summary>
public sealed class StandInProcessTests(ITestOutputHelper output)
{
    private const string Key = "sk-stand-in-test-4f1c";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly string DotnetHost = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    [Fact]
    public async Task StartAsync_JoinsReadyOnlyOnceItAnswersOverTls_WithTheKeyInItsEnvironmentNotOnItsCommandLine()
    {
        await using var harness = Harness.Create(output, FreePort(), key: Key);

        await harness.Provider.StartAsync(CancellationToken.None);

        var replica = Assert.Single(harness.Pool.Replicas);
        Assert.Equal(ReplicaState.Provisioning, replica.State);
        await harness.WaitUntilReadyAsync(pid => true);
        Assert.Equal(harness.BaseUrl, replica.Address);
        var pid = replica.ProcessId!.Value;
        var commandLine = LinuxProcess.CommandLine(pid);
        Assert.StartsWith($"{DotnetHost} {SimulatorProcess.DllPath} --port {harness.BaseUrl.Port} --ssl-certfile {harness.Certificate.CertFile} --ssl-keyfile {harness.Certificate.KeyFile}", commandLine, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, commandLine, StringComparison.Ordinal);
        Assert.Contains("VLLM_API_KEY=" + Key, (await File.ReadAllTextAsync($"/proc/{pid}/environ")).Split('\0'));

        // It serves over TLS with the made certificate, and only with the key.
        using var client = harness.TrustingClient();
        using (var withKey = new HttpRequestMessage(HttpMethod.Get, harness.BaseUrl + "/models"))
        {
            withKey.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
            using var answer = await client.SendAsync(withKey);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        using var without = await client.GetAsync(harness.BaseUrl + "/models");
        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
    }

    [Fact]
    public async Task StandInThatDies_IsStartedAgain_AndStopAsyncLeavesNoProcessAndNoReplica()
    {
        await using var harness = Harness.Create(output, FreePort(), key: Key);
        await harness.Provider.StartAsync(CancellationToken.None);
        var first = await harness.WaitUntilReadyAsync(pid => true);

        Assert.True(await ProcessSignals.SendAsync(first, "KILL"));
        var second = await harness.WaitUntilReadyAsync(pid => pid != first);
        await harness.Provider.StopAsync(CancellationToken.None);

        Assert.Contains(harness.Logger.Entries, e => e.EventId == 3145 && e.Message.Contains($"process {first}", StringComparison.Ordinal));
        Assert.Contains(harness.Logger.Entries, e => e.EventId == 3146);
        Assert.Empty(harness.Pool.Replicas);
        await LinuxProcess.WaitUntilGoneAsync(second, Deadline);
    }

    [Fact]
    public async Task StartAsync_BaseUrlsPortTaken_StopsTheStartNamingTheKey()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        await using var harness = Harness.Create(output, port, key: Key);

        var error = await Assert.ThrowsAsync<GatewayConfigurationException>(() => harness.Provider.StartAsync(CancellationToken.None));

        Assert.Equal(
            $"Gateway:Services:0:Pools:1:Provider:BaseUrl: port {port} of 127.0.0.1 is taken by another program, "
            + "and the stand-in provider must listen there; stop that program or give BaseUrl another port",
            Assert.Single(error.Errors));
        Assert.Empty(harness.Pool.Replicas);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class Harness : IAsyncDisposable
    {
        private readonly ChildProcessLauncher _launcher;
        private readonly ProviderTrust _trust;

        private Harness(Pool pool, IReplicaProvider provider, ProviderTrust trust, StandInCertificate certificate, ChildProcessLauncher launcher, RecordingLogger<StandInProcess> logger)
        {
            Pool = pool;
            Provider = provider;
            _trust = trust;
            Certificate = certificate;
            _launcher = launcher;
            Logger = logger;
        }

        public Pool Pool { get; }

        public IReplicaProvider Provider { get; }

        public StandInCertificate Certificate { get; }

        public RecordingLogger<StandInProcess> Logger { get; }

        public Uri BaseUrl => new(Pool.Options.Provider!.BaseUrl);

        /// <summary>A service whose second pool is a bridge on <paramref name="port"/> with a stand-in simulator, made by the gateway's factory.</summary>
        public static Harness Create(ITestOutputHelper output, int port, string key)
        {
            var bridge = new PoolOptions
            {
                Name = "bridge",
                Priority = 1,
                Role = PoolRole.Bridge,
                Provider = new ProviderSourceOptions
                {
                    BaseUrl = $"https://127.0.0.1:{port}/v1",
                    StandIn = new StandInOptions
                    {
                        Command = DotnetHost,
                        Arguments = [SimulatorProcess.DllPath, "--port", "{port}", "--ssl-certfile", "{certfile}", "--ssl-keyfile", "{keyfile}", "--served-model-name", "qwen-plus"],
                    },
                },
            };
            var options = new GatewayOptions
            {
                Services = [new ServiceOptions { Name = "qwen-chat", Models = ["qwen"], Pools = [new PoolOptions { Name = "on-prem", Static = ["http://127.0.0.1:1"] }, bridge] }],
            };
            var trust = ProviderTrust.Read(options);
            var logger = new RecordingLogger<StandInProcess>(output);
            var launcher = new ChildProcessLauncher(NullLogger<ChildProcessLauncher>.Instance);
            var factory = new HostedApiProviderFactory(options, trust, new StandInKeys(p => ReferenceEquals(p, bridge) ? key : null), launcher, TimeProvider.System, logger);
            var pool = new Pool(bridge, "qwen-chat", "default");
            return new Harness(pool, factory.Create(pool), trust, trust.StandInFor(bridge)!, launcher, logger);
        }

        /// <summary>Waits until the pool's replica is ready with a process <paramref name="accept"/> takes; its process id.</summary>
        public Task<int> WaitUntilReadyAsync(Func<int, bool> accept) =>
            Eventually.WaitAsync(
                () => Task.FromResult(Pool.Replicas is [{ State: ReplicaState.Ready, ProcessId: { } pid }] && accept(pid) ? pid : 0),
                pid => pid != 0,
                Deadline,
                "the stand-in to be ready");

        /// <summary>A client that trusts the certificate made for the stand-in alone.</summary>
        public HttpClient TrustingClient()
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.Add(Certificate.Certificate);
            return new HttpClient(new SocketsHttpHandler { SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy } });
        }

        public async ValueTask DisposeAsync()
        {
            await Provider.StopAsync(CancellationToken.None);
            _launcher.Dispose();
            _trust.Dispose();
        }
    }
}

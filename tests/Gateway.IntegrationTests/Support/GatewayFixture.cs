using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Hosting;
using Gateway.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;

namespace Gateway.IntegrationTests.Support;

/// <summary>
/// A real gateway on ephemeral loopback ports in front of real simulator processes. Every test starts its
/// own, so tests share nothing and may run in parallel; disposing stops the gateway and kills the simulators.
/// </summary>
internal sealed class GatewayFixture : IAsyncDisposable
{
    /// <summary>The KServe-style host of the service <see cref="QwenChat"/> builds.</summary>
    public const string ServiceHost = "qwen-chat-default.example.com";

    /// <summary>The model the service and the simulators serve.</summary>
    public const string Model = "qwen";

    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(30);

    private readonly WebApplication _app;

    private GatewayFixture(WebApplication app, IReadOnlyList<SimulatorProcess> simulators, GatewayListeners listeners)
    {
        _app = app;
        Simulators = simulators;
        PublicAddress = listeners.PublicAddress;
        AdminAddress = listeners.AdminAddress;
        Admin = new HttpClient { BaseAddress = AdminAddress, Timeout = ClientTimeout };
    }

    /// <summary>The simulators, in the order their arguments were given.</summary>
    public IReadOnlyList<SimulatorProcess> Simulators { get; }

    /// <summary>The public listener, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri PublicAddress { get; }

    /// <summary>The admin listener.</summary>
    public Uri AdminAddress { get; }

    /// <summary>A client of the admin listener, owned by the fixture.</summary>
    public HttpClient Admin { get; }

    /// <summary>The gateway's services, for a test that plays a part not built yet (a scale controller's decision).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Starts one simulator per entry of <paramref name="simulators"/> (its command-line flags), then a gateway
    /// with the options <paramref name="options"/> builds from them, listening on ephemeral loopback ports (the admin
    /// listener on <paramref name="adminUrl"/>: <c>http://0.0.0.0:0</c> for a test of a non-loopback admin listener).
    /// <paramref name="settings"/> are further configuration keys (<c>OTEL_*</c> variables as the host reads them),
    /// <paramref name="services"/> replaces or adds services; <paramref name="simulatorEnvironment"/> is added to every
    /// simulator's environment.
    /// </summary>
    public static async Task<GatewayFixture> StartAsync(
        IReadOnlyList<string[]> simulators,
        Func<IReadOnlyList<SimulatorProcess>, GatewayOptions> options,
        string adminUrl = "http://127.0.0.1:0",
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        IReadOnlyDictionary<string, string>? simulatorEnvironment = null)
    {
        var starting = simulators
            .Select(args => simulatorEnvironment is null ? SimulatorProcess.StartAsync(args) : SimulatorProcess.StartWithEnvironmentAsync(simulatorEnvironment, args))
            .ToArray();
        try
        {
            await Task.WhenAll(starting);
        }
        catch
        {
            foreach (var start in starting.Where(s => s.IsCompletedSuccessfully))
            {
                await start.Result.DisposeAsync();
            }

            throw;
        }

        var processes = starting.Select(s => s.Result).ToArray();
        WebApplication? app = null;
        try
        {
            // A cold simulator can take over a second to answer its first request (JIT on a loaded machine), which the
            // gateway's first health probe would count as a failure; one request of the same kind warms it.
            await Task.WhenAll(processes.Select(WarmUpAsync));
            var gatewayOptions = options(processes);
            gatewayOptions.PublicUrl = "http://127.0.0.1:0";
            gatewayOptions.AdminUrl = adminUrl;

            // Only warnings and errors: a failing test's output then shows what went wrong, not every request.
            var configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" })
                .AddInMemoryCollection(settings ?? new Dictionary<string, string?>())
                .Build();
            app = GatewayApplication.Build(gatewayOptions, configuration, services);
            await app.StartAsync();
            return new GatewayFixture(app, processes, app.Services.GetRequiredService<GatewayListeners>());
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }

            throw;
        }
    }

    private static async Task WarmUpAsync(SimulatorProcess simulator)
    {
        using var client = simulator.CreateHttpClient();
        using var response = await client.GetAsync("health");
    }

    /// <summary>The service <c>qwen-chat</c> in <c>default</c>, serving <see cref="Model"/> from <paramref name="pools"/>.</summary>
    public static ServiceOptions QwenChat(params PoolOptions[] pools) => new()
    {
        Name = "qwen-chat",
        Namespace = "default",
        Models = [Model],
        Pools = [.. pools],
    };

    /// <summary>A pool of static replicas at the simulators' addresses.</summary>
    public static PoolOptions Pool(string name, int priority, int capacityPerReplica, params SimulatorProcess[] replicas) =>
        Pool(name, priority, capacityPerReplica, replicas.Select(r => r.BaseAddress).ToArray());

    /// <summary>A pool of static replicas at <paramref name="addresses"/>.</summary>
    public static PoolOptions Pool(string name, int priority, int capacityPerReplica, params Uri[] addresses) => new()
    {
        Name = name,
        Priority = priority,
        CapacityPerReplica = capacityPerReplica,
        Static = [.. addresses.Select(a => a.ToString().TrimEnd('/'))],
    };

    /// <summary>A client of the public listener that sends <paramref name="host"/> as its Host header (none: the listener's own address).</summary>
    public HttpClient CreatePublicClient(string? host = ServiceHost)
    {
        // The client is a separate application: it sends the traceparent a test gives it, not one of its own made
        // because the gateway under test, in the same process, traces HttpClient's requests.
        var client = new HttpClient(new UntracedHandler()) { BaseAddress = PublicAddress, Timeout = ClientTimeout };
        if (host is not null)
        {
            client.DefaultRequestHeaders.Host = host;
        }

        return client;
    }

    /// <summary>
    /// The official OpenAI SDK pointed at the gateway, reaching the service by its Host header, without retries, sending
    /// <paramref name="apiKey"/> (which a gateway without <c>Auth:Mode</c> <c>ApiKeys</c> does not check).
    /// </summary>
    public ChatClient CreateChatClient(HttpClient publicClient, string apiKey = "not-checked") =>
        new(Model, new ApiKeyCredential(apiKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(PublicAddress, "v1"),
            Transport = new HttpClientPipelineTransport(publicClient),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });

    /// <summary>The gateway's <c>/admin/status</c>.</summary>
    public async Task<GatewayStatus> StatusAsync()
    {
        using var document = JsonDocument.Parse(await Admin.GetStringAsync("admin/status"));
        return GatewayStatus.Read(document.RootElement);
    }

    /// <summary>A simulator's <c>vllm:num_requests_running</c> and <c>vllm:num_requests_waiting</c>.</summary>
    public static async Task<(double Running, double Waiting)> LoadAsync(SimulatorProcess simulator)
    {
        using var client = simulator.CreateHttpClient();
        return await MetricsText.QueueAsync(client);
    }

    /// <summary>One sample of a simulator's metrics, e.g. <c>vllm:prompt_tokens_total{model_name="qwen"}</c>.</summary>
    public static async Task<double> SampleAsync(SimulatorProcess simulator, string sample)
    {
        using var client = simulator.CreateHttpClient();
        return (await MetricsText.ScrapeAsync(client))[sample];
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var simulator in Simulators)
        {
            await simulator.DisposeAsync();
        }
    }
}

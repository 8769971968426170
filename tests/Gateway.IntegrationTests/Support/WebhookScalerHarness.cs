using Gateway.Backends;
using Gateway.Configuration;
using Gateway.Routing;
using Gateway.Scaling;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.IntegrationTests.Support;

/// <summary>
/// A <see cref="WebhookPoolScaler"/> for the pool <c>cloud</c> of <c>qwen-chat</c>, with its client and resilience
/// pipeline wired as the gateway wires them (<c>AddScaling</c>), aimed at a real receiver.
/// </summary>
internal sealed class WebhookScalerHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private WebhookScalerHarness(ServiceProvider services, Pool pool, WebhookPoolScaler scaler)
    {
        _services = services;
        Pool = pool;
        Scaler = scaler;
    }

    public Pool Pool { get; }

    public WebhookPoolScaler Scaler { get; }

    public static WebhookScalerHarness Create(WebhookScalerOptions webhook)
    {
        var cloud = GatewayFixture.Pool("cloud", 1, 2, new Uri("http://127.0.0.1:1/"));
        cloud.Scaling = new ScalingOptions { MaxReplicas = 1, Webhook = webhook };
        var options = new GatewayOptions { Services = [GatewayFixture.QwenChat(cloud)] };
        Assert.Empty(GatewayOptionsValidator.Check(options));

        var services = new ServiceCollection().AddLogging().AddScaling(options).BuildServiceProvider();
        var pool = new GatewayTopology(options, TimeProvider.System, new Random(1)).Services[0].FindPool("cloud")!;
        var scaler = Assert.IsType<WebhookPoolScaler>(PoolScalers.Create(pool, cloud, new StaticReplicaSource(pool, []), services));
        return new WebhookScalerHarness(services, pool, scaler);
    }

    /// <summary>A scale-out request from 0 to <paramref name="desired"/> replicas.</summary>
    public ScaleRequest Out(int desired) => new(Pool, desired, 0, "demand 6");

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}

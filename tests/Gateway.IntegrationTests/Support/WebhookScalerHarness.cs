using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.IntegrationTests.Support;

/// <summary>
/// A <see cref="WebhookPoolScaler"/> for the pool <c>cloud</c> of <c>qwen-chat</c>, with its client and resilience
/// pipeline wired as the gateway wires them (<c>AddReplicaProviders</c>), aimed at a real receiver.
/// </summary>
internal sealed class WebhookScalerHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly CapturingLoggerProvider _logs;

    private WebhookScalerHarness(ServiceProvider services, CapturingLoggerProvider logs, Pool pool, WebhookPoolScaler scaler)
    {
        _services = services;
        _logs = logs;
        Pool = pool;
        Scaler = scaler;
    }

    public Pool Pool { get; }

    public WebhookPoolScaler Scaler { get; }

    /// <summary>Everything logged so far at any level (the scaler's, the HTTP client's, Polly's), exceptions included.</summary>
    public string Logs => _logs.Text;

    public static WebhookScalerHarness Create(WebhookScalerOptions webhook)
    {
        var cloud = GatewayFixture.Pool("cloud", 1, 2, new Uri("http://127.0.0.1:1/"));
        cloud.Scaling = new ScalingOptions { MaxReplicas = 1, Webhook = webhook };
        var options = new GatewayOptions { Services = [GatewayFixture.QwenChat(cloud)] };
        Assert.Empty(GatewayOptionsValidator.Check(options));

        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(logs))
            .AddReplicaProviders(options)
            .BuildServiceProvider();
        var pool = new GatewayTopology(options).Services[0].FindPool("cloud")!;
        var scaler = Assert.IsType<WebhookPoolScaler>(services.GetRequiredService<WebhookScalers>().Create(pool));
        return new WebhookScalerHarness(services, logs, pool, scaler);
    }

    /// <summary>A scale-out request from 0 to <paramref name="desired"/> replicas.</summary>
    public ScaleRequest Out(int desired) => new(Pool, desired, 0, "demand 6");

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}

/// <summary>Keeps every log line of a service provider, to check what it says (and does not).</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly System.Text.StringBuilder _text = new();

    public string Text
    {
        get
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (provider._text)
            {
                provider._text.Append(logLevel).Append(' ').Append(category).Append(": ").AppendLine(formatter(state, exception));
                if (state is IEnumerable<KeyValuePair<string, object?>> values)
                {
                    foreach (var (key, value) in values)
                    {
                        provider._text.Append("  ").Append(key).Append('=').Append(value).AppendLine();
                    }
                }

                if (exception is not null)
                {
                    provider._text.AppendLine(exception.ToString());
                }
            }
        }
    }
}

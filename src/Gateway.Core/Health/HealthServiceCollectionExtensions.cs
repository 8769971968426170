using Gateway.Configuration;
using Polly;
using Polly.Telemetry;

namespace Gateway.Health;

/// <summary>Wires replica health checks into the gateway.</summary>
internal static class HealthServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="ReplicaHealthMonitor"/> (probes in the background, takes in the forwarder's failures)
    /// and one probe client per pool, whose resilience pipeline bounds each probe by the pool's timeout.
    /// </summary>
    public static IServiceCollection AddReplicaHealth(this IServiceCollection services, GatewayOptions options)
    {
        foreach (var service in options.Services)
        {
            foreach (var pool in service.Pools)
            {
                var health = pool.Health;

                // No retry strategy: a failed probe is retried by the monitor's schedule, with back-off.
                services.AddHttpClient(ReplicaHealthMonitor.ClientName(service, pool))
                    .AddResilienceHandler("probe", builder => builder.AddTimeout(TimeSpan.FromSeconds(health.ProbeTimeoutSeconds)));
            }
        }

        // Polly logs a timeout as an error. For a probe it is an ordinary verdict (not healthy) that the monitor logs
        // itself, once per change, so the probe pipelines' events go to debug; other pipelines keep their severity.
        services.Configure<Polly.Telemetry.TelemetryOptions>(telemetry =>
        {
            var others = telemetry.SeverityProvider;
            telemetry.SeverityProvider = args => args.Source.PipelineName?.StartsWith(ReplicaHealthMonitor.ClientNamePrefix, StringComparison.Ordinal) == true
                ? ResilienceEventSeverity.Debug
                : others?.Invoke(args) ?? args.Event.Severity;
        });

        services.AddSingleton<ReplicaHealthMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<ReplicaHealthMonitor>());
        return services;
    }
}

using Gateway.Admin;
using Gateway.Admission;
using Gateway.Configuration;
using Gateway.Forwarding;
using Gateway.Health;
using Gateway.Load;
using Gateway.Model;
using Gateway.Providers;
using Gateway.Providers.Hosted;
using Gateway.Requests;
using Gateway.Scaling;
using Gateway.Telemetry;
using Gateway.Tenancy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Hosting;

/// <summary>
/// Builds the gateway as a web application from its options. The host's <c>Program.cs</c> and the tests
/// both come through here, so a test runs the same gateway with its own backends and clock.
/// </summary>
public static class GatewayApplication
{
    /// <summary>Builds a gateway; <paramref name="configure"/> may replace services (a fake clock in tests).</summary>
    public static WebApplication Build(GatewayOptions options, IConfiguration? configuration = null, Action<IServiceCollection>? configure = null)
    {
        // The configuration is read once at start (and validated); reloading would make the host watch the whole
        // working directory tree for appsettings.json changes it never uses.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        if (configuration is not null)
        {
            builder.Configuration.AddConfiguration(configuration);
        }

        // Per-request framework logs (YARP's "Proxying to", HttpClient's probe traces) cost on the hot path and
        // bury what matters; the "Logging" configuration section can still turn them back on.
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);

        // ASP.NET Core starts an Activity for every request while its hosting logger is enabled at any level (for
        // log scopes), and HttpClient then formats a traceparent header for the replica from it: ~1 kB and a few
        // microseconds per request for a logger that only writes request start/finish at Information. The price: log
        // lines no longer carry the request scope (RequestId, TraceId) when a console formatter includes scopes, and
        // replicas get no traceparent unless a tracing listener (OpenTelemetry) is attached, which brings both back.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);

        var listeners = new GatewayListeners();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // The gateway enforces its own body limit with an OpenAI-style 413; Kestrel's must not be lower.
            kestrel.Limits.MaxRequestBodySize = Math.Max(options.MaxRequestBodyBytes + 1, 30_000_000);
            var limits = options.Limits;
            kestrel.Limits.MaxConcurrentConnections = limits.MaxConnections;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(limits.RequestHeadersTimeoutSeconds);
            kestrel.Limits.MinRequestBodyDataRate = limits.MinRequestBodyBytesPerSecond > 0
                ? new MinDataRate(limits.MinRequestBodyBytesPerSecond, TimeSpan.FromSeconds(limits.MinRequestBodyGraceSeconds))
                : null;
            listeners.Configure(kestrel, options.PublicUrl, options.AdminUrl);
        });
        builder.Services.AddSingleton(listeners);
        builder.Services.AddInferenceGateway(options);

        // Only the public listener's requests are traced: the admin listener's are scrapes and probes.
        builder.Services.AddOpenTelemetryExport(options.Telemetry, builder.Configuration, context => context.Connection.LocalPort != listeners.AdminPort);
        configure?.Invoke(builder.Services);

        // Read now, after the options are validated and before anything listens, so a missing token stops the start
        // with the key to fix.
        var adminToken = AdminToken.Read(options.Admin, $"{GatewayOptions.SectionName}:Admin");
        var app = builder.Build();
        app.MapWhen(
            context => context.Connection.LocalPort == listeners.AdminPort,
            admin => AdminEndpoints.Build(admin, adminToken, options.Admin.ProtectMetrics));
        var endpoint = app.Services.GetRequiredService<InferenceEndpoint>();
        app.Run(endpoint.InvokeAsync);
        return app;
    }

    /// <summary>
    /// Registers the gateway's services: topology, placement, queue, forwarding, replica providers, health checks and
    /// scaling. Checks <paramref name="options"/> first and throws <see cref="GatewayConfigurationException"/> naming
    /// every bad key; nothing else validates them again, and they are used as given, never copied.
    /// </summary>
    public static IServiceCollection AddInferenceGateway(this IServiceCollection services, GatewayOptions options)
    {
        GatewayConfiguration.Validate(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(options.Forwarding);
        services.AddSingleton(options.ForwardedHeaders);
        services.AddSingleton(new GatewayTopology(options));
        services.AddSingleton(new TenantDirectory(options));

        // Read now, so an unset variable or an unreadable file stops the start with the key to fix.
        var trust = ProviderTrust.Read(options);
        // Through a factory, so the container disposes it when the gateway stops: that deletes the stand-in's key file.
        services.AddSingleton(_ => trust);
        var keys = BackendKeys.Read(options, trust: trust);
        services.AddSingleton(keys);
        services.AddSingleton(new StandInKeys(keys.KeyFor));
        services.AddSingleton<ProviderClients>();
        services.AddSingleton(sp => new ServiceQueues(sp.GetRequiredService<GatewayTopology>(), sp.GetRequiredService<TimeProvider>(), Random.Shared, options.Classes));
        services.AddHttpForwarder();
        services.AddSingleton<ReplicaForwarder>();
        services.AddSingleton<InferenceEndpoint>();
        services.AddSingleton(sp => new TenantLimiters(sp.GetRequiredService<TenantDirectory>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new GatewayMetrics(
            sp.GetRequiredService<GatewayTopology>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<TenantDirectory>().Attributable));
        services.AddReplicaProviders(options);

        // Before the drain: hosted services stop in reverse order, so the lines of answers ended while draining are written.
        services.AddRequestLog(options.RequestLog, $"{GatewayOptions.SectionName}:RequestLog");
        services.AddSingleton<GatewayDrain>();
        services.AddHostedService(sp => sp.GetRequiredService<GatewayDrain>());
        services.AddLoadScraping();
        services.AddReplicaHealth(options);
        services.AddAdminHistory();
        services.AddCostMeter();
        services.AddInferenceTelemetry();

        // After the replica providers: hosted services start in order and stop in reverse, so scaling begins once
        // every provider is up and ends before they stop.
        services.AddScaling();

        // In-flight answers get the drain timeout, then child replicas their SIGTERM grace period, before the
        // host gives up on stopping.
        var stopTimeout = 10.0;
        foreach (var service in options.Services)
        {
            foreach (var pool in service.Pools)
            {
                stopTimeout = Math.Max(stopTimeout, pool.Process?.StopTimeoutSeconds ?? 0);
            }
        }

        services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(options.DrainTimeoutSeconds + stopTimeout + 5));
        return services;
    }
}

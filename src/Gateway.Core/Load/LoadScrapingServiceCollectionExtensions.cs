using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Telemetry;

namespace Gateway.Load;

/// <summary>Wires the load scraper: its HTTP client and the background service that runs it.</summary>
internal static class LoadScrapingServiceCollectionExtensions
{
    private const string PipelineName = "scrape";

    /// <summary>
    /// Adds the <see cref="LoadScraper"/> and its client: a timeout per scrape (the pool's interval, carried on the
    /// request) and no retries, since the scraper tries again at the next interval anyway and a retry would only
    /// bring older figures.
    /// </summary>
    public static IServiceCollection AddLoadScraping(this IServiceCollection services)
    {
        services.AddHttpClient(LoadScraper.ClientName)
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler
            {
                // As the forwarder's client: straight to the replica, never through a proxy or a redirect.
                UseProxy = false,
                AllowAutoRedirect = false,
            })
            .AddResilienceHandler(PipelineName, static pipeline => pipeline.AddTimeout(new HttpTimeoutStrategyOptions
            {
                TimeoutGenerator = static arguments => ValueTask.FromResult(
                    arguments.Context.GetRequestMessage() is { } request && request.Options.TryGetValue(LoadScraper.TimeoutKey, out var timeout)
                        ? timeout
                        : TimeSpan.FromSeconds(1)),
            }));

        // A replica that hangs times out every interval; Polly would log each one as an error. The scraper logs the
        // failure at debug level and warns once, when the figures become stale, so the timeouts are demoted here.
        var pipelineKey = $"{LoadScraper.ClientName}-{PipelineName}";
        services.Configure<TelemetryOptions>(telemetry =>
        {
            var previous = telemetry.SeverityProvider;
            telemetry.SeverityProvider = arguments => arguments.Source.PipelineName == pipelineKey
                ? ResilienceEventSeverity.Debug
                : previous?.Invoke(arguments) ?? arguments.Event.Severity;
        });
        services.AddHostedService<LoadScraper>();
        return services;
    }
}

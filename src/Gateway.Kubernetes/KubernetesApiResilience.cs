using System.Net;
using Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Registry;

namespace Gateway.Kubernetes;

/// <summary>
/// The resilience pipelines every Kubernetes API call goes through (discovery, scaling and leader election share one
/// client): retries with exponential back-off and jitter that obey the API server's <c>Retry-After</c>, inside them a
/// timeout on each attempt (<see cref="KubernetesClusterOptions.TimeoutSeconds"/>,
/// <see cref="KubernetesClusterOptions.MaxRetries"/>). A watch goes around both.
/// </summary>
/// <remarks>
/// The pipelines are registered with Polly's registry, so their retries and timeouts are logged by Polly's own
/// telemetry under their names, and counted on its <c>resilience.polly.*</c> .NET meter instruments (which the
/// gateway's Prometheus registry does not export).
/// </remarks>
internal static class KubernetesApiResilience
{
    /// <summary>The pipeline of calls that may be sent again whatever became of the first attempt.</summary>
    public const string ReplayablePipeline = "kubernetes-api";

    /// <summary>The pipeline of calls that may be sent again only when the API server says it did not process them.</summary>
    public const string WritePipeline = "kubernetes-api-write";

    /// <summary>The first back-off between two attempts; it doubles for each retry, with jitter, unless the server says how long to wait.</summary>
    internal static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>The longest back-off of its own; a longer <c>Retry-After</c> is still obeyed, within KubernetesClient's limit on a whole call.</summary>
    internal static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private const string MergePatch = "application/merge-patch+json";

    /// <summary>Registers both pipelines, built from <c>Gateway:Kubernetes</c> when they are first asked for.</summary>
    public static IServiceCollection AddKubernetesApiResilience(this IServiceCollection services)
    {
        services.AddResiliencePipeline<string, HttpResponseMessage>(
            ReplayablePipeline, (builder, context) => AddStrategies(builder, Cluster(context.ServiceProvider), replayable: true));
        services.AddResiliencePipeline<string, HttpResponseMessage>(
            WritePipeline, (builder, context) => AddStrategies(builder, Cluster(context.ServiceProvider), replayable: false));
        return services;
    }

    /// <summary>The handler to give KubernetesClient: it sends each request through the pipeline its kind calls for.</summary>
    public static DelegatingHandler CreateHandler(ResiliencePipelineProvider<string> pipelines)
    {
        var replayable = pipelines.GetPipeline<HttpResponseMessage>(ReplayablePipeline);
        var write = pipelines.GetPipeline<HttpResponseMessage>(WritePipeline);
        return new ResilienceHandler(request =>
            IsWatch(request) ? ResiliencePipeline<HttpResponseMessage>.Empty
            : IsReplayable(request) ? replayable
            : write);
    }

    /// <summary>
    /// A watch (<c>watch=true</c> or <c>watch=1</c>) stays open for as long as the API server keeps it, minutes: a
    /// timeout would cut it, and a retry would replay events already delivered. Its caller lists again when it ends.
    /// </summary>
    internal static bool IsWatch(HttpRequestMessage request)
    {
        if (request.RequestUri is not { Query.Length: > 1 } uri)
        {
            return false;
        }

        var watch = System.Web.HttpUtility.ParseQueryString(uri.Query)["watch"];
        return watch == "1" || bool.TryParse(watch, out var on) && on;
    }

    /// <summary>
    /// A read, or a JSON merge patch: RFC 7386 makes a merge patch idempotent (applying it twice leaves what applying it
    /// once does), and every patch the gateway sends writes absolute values (a Deployment's replicas, an
    /// InferenceService's floor, a pod's deletion cost). So after a 5xx or a timeout, when the server may or may not
    /// have applied it, sending it again cannot scale twice. Anything else (a Lease's create or replace) is not:
    /// replaying a create that did happen, or a replace carrying a resourceVersion that has since moved, earns a 409,
    /// and the leader elector already tries again on its own period.
    /// </summary>
    internal static bool IsReplayable(HttpRequestMessage request) =>
        request.Method == HttpMethod.Get
        || request.Method == HttpMethod.Head
        || request.Method == HttpMethod.Patch
            && string.Equals(request.Content?.Headers.ContentType?.MediaType, MergePatch, StringComparison.OrdinalIgnoreCase);

    private static void AddStrategies(ResiliencePipelineBuilder<HttpResponseMessage> builder, KubernetesClusterOptions options, bool replayable)
    {
        if (options.MaxRetries > 0)
        {
            // The defaults retry 5xx, 408, 429, no connection and a timed-out attempt, and wait what Retry-After says.
            var retry = new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                Delay = RetryDelay,
                MaxDelay = MaxRetryDelay,
            };
            if (!replayable)
            {
                // 429 is the one answer that says the call was not processed (the API server's priority and fairness
                // refuses it before it runs), so it is safe to send again whatever the call; client-go does the same.
                retry.ShouldHandle = static arguments =>
                    ValueTask.FromResult(arguments.Outcome.Result?.StatusCode == HttpStatusCode.TooManyRequests);
            }

            builder.AddRetry(retry);
        }

        // Inside the retries, so each attempt has its own; it runs until the answer's headers arrive, and the body is
        // read under KubernetesClient's own limit on a whole call.
        builder.AddTimeout(TimeSpan.FromSeconds(options.TimeoutSeconds));
    }

    private static KubernetesClusterOptions Cluster(IServiceProvider services) =>
        services.GetService<GatewayOptions>()?.Kubernetes ?? new KubernetesClusterOptions();
}

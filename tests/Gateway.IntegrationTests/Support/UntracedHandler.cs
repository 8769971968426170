using System.Diagnostics;
using OpenTelemetry;

namespace Gateway.IntegrationTests.Support;

/// <summary>
/// A test's HTTP client, sending outside OpenTelemetry's instrumentation: no client span and no traceparent of its own.
/// A gateway under test in the same process traces every HttpClient's requests; the test is another application, whose
/// requests carry only the traceparent the test gives them.
/// </summary>
internal sealed class UntracedHandler() : DelegatingHandler(new SocketsHttpHandler { ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator() })
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var untraced = SuppressInstrumentationScope.Begin();
        return await base.SendAsync(request, cancellationToken);
    }
}

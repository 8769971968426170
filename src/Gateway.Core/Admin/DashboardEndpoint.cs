using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Gateway.Admin;

/// <summary>
/// <c>GET /dashboard</c> on the admin listener: one self-contained page (inline CSS and script, no fonts or
/// libraries from elsewhere, so it works on an air-gapped operator's screen) that polls <c>admin/status</c>
/// and <c>metrics</c> of the same listener and draws, per service, its pools, replicas, load, queue, the
/// on-prem/cloud split, time to first token and scale events. The gateway only serves the page; every window
/// and quantile is computed in the browser from successive scrapes, as Prometheus would over the same series.
/// </summary>
internal static class DashboardEndpoint
{
    private const string ResourceName = "Gateway.Admin.dashboard.html";

    // The page must not depend on anything but this listener: the policy makes a stray CDN link or web font
    // fail in every browser, online or not, instead of working by accident on a connected desk.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Lazy<byte[]> Page = new(Load);

    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/dashboard", static context => WriteAsync(context.Response, context.RequestAborted));

    private static async Task WriteAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        var page = Page.Value;
        response.ContentType = "text/html; charset=utf-8";
        response.ContentLength = page.Length;
        response.Headers.CacheControl = "no-cache";
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        await response.Body.WriteAsync(page, cancellationToken);
    }

    private static byte[] Load()
    {
        using var stream = typeof(DashboardEndpoint).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the dashboard page {ResourceName} is not embedded in {typeof(DashboardEndpoint).Assembly.GetName().Name}");
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return bytes.ToArray();
    }
}

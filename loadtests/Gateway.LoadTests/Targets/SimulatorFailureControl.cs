using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace Gateway.LoadTests.Targets;

/// <summary>
/// The simulator's test hook (<c>--failure-control</c>): <c>PUT /simulator/failure-injection</c> changes what share of a
/// running replica's API requests fail, and how, while its <c>/health</c> stays 200.
/// </summary>
internal static class SimulatorFailureControl
{
    /// <summary>The simulator flag that maps the hook; off by default.</summary>
    public const string Flag = "--failure-control";

    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>Makes the replica at <paramref name="replica"/> answer <paramref name="percent"/> % of its API requests with 503.</summary>
    public static async Task SetUnavailableAsync(HttpClient client, Uri replica, double percent, CancellationToken cancellationToken)
    {
        var body = string.Create(CultureInfo.InvariantCulture, $$"""{"rate":{{percent}},"types":["unavailable"]}""");
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = Json;
        using var response = await client.PutAsync(new Uri(replica, "simulator/failure-injection"), content, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException(
                $"{replica} answered {(int)response.StatusCode} to its failure control (started without {Flag}?): {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }
}

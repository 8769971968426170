using System.Net;

namespace Gateway.Health;

/// <summary>One look at a server's <c>/health</c>, for providers deciding whether a server they know of can join its pool.</summary>
internal static class HealthProbe
{
    /// <summary>
    /// Whether <paramref name="health"/> answers 200 within <paramref name="timeout"/>; a refused connection or a slow
    /// answer is a no, and only <paramref name="stopping"/> throws.
    /// </summary>
    public static async Task<bool> AnswersAsync(HttpClient client, Uri health, TimeSpan timeout, TimeProvider time, CancellationToken stopping)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, deadline.Token);
        try
        {
            using var response = await client.GetAsync(health, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            return false;
        }
    }
}

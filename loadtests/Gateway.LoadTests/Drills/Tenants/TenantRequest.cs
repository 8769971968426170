using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Gateway.LoadTests.Drills.Chaos;
using Gateway.LoadTests.Targets;

namespace Gateway.LoadTests.Drills.Tenants;

/// <summary>
/// One chat completion of a tenant, with its key, read to its end within a deadline and classified as the chaos drill
/// does (<see cref="AnswerClassifier"/>): completed, a clean OpenAI-shaped error, or lost. A streamed one also gives its
/// time to the first token, read at the client: from the send to the first SSE event with generated text. The gateway
/// runs throughout, so a refused connection is lost too; only the drill's own cancellation is thrown.
/// </summary>
internal sealed class TenantRequest
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly HttpClient _client;
    private readonly Uri _endpoint;
    private readonly string _host;
    private readonly AuthenticationHeaderValue _key;
    private readonly byte[] _body;
    private readonly TimeSpan _deadline;

    public TenantRequest(HttpClient client, Uri baseAddress, string host, DrillTenant tenant, string body, TimeSpan deadline)
    {
        _client = client;
        _endpoint = new Uri(baseAddress, "v1/chat/completions");
        _host = host;
        Tenant = tenant;
        _key = new AuthenticationHeaderValue("Bearer", tenant.Key);
        var json = System.Text.Json.Nodes.JsonNode.Parse(body)!.AsObject();
        json["max_tokens"] = tenant.MaxTokens;
        _body = Encoding.UTF8.GetBytes(tenant.Streamed ? ChatRequest.Streamed(json.ToJsonString()) : json.ToJsonString());
        _deadline = deadline;
    }

    public DrillTenant Tenant { get; }

    /// <summary>Sends the request and reads its answer to the end or the deadline: the verdict, the first token's time, and the Retry-After asked for.</summary>
    public async Task<(Verdict Verdict, double? FirstTokenMs, TimeSpan? RetryAfter)> SendAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_deadline);
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(_body) };
        request.Content.Headers.ContentType = Json;
        request.Headers.Host = _host;
        request.Headers.Authorization = _key;
        var sent = Stopwatch.GetTimestamp();
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        }
        catch (HttpRequestException e)
        {
            return (Verdict.Lost("failed before an answer", $"{e.HttpRequestError}: {e.Message}"), null, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (Verdict.Lost("no answer by the deadline", $"no status within {_deadline.TotalSeconds:0} s"), null, null);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            using var body = new MemoryStream();
            long firstToken = 0;
            try
            {
                await using var stream = await response.Content.ReadAsStreamAsync(deadline.Token);
                var buffer = new byte[16 * 1024];
                int read;
                while ((read = await stream.ReadAsync(buffer, deadline.Token)) > 0)
                {
                    if (firstToken == 0 && Tenant.Streamed && status == 200 && ChatRequest.HasText(buffer.AsSpan(0, read)))
                    {
                        firstToken = Stopwatch.GetTimestamp();
                    }

                    body.Write(buffer, 0, read);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return (Verdict.Lost("no answer by the deadline", $"status {status}, the body not ended within {_deadline.TotalSeconds:0} s"), null, null);
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                return (Verdict.Lost("connection broken mid-body", $"status {status}: {e.Message}"), null, null);
            }

            var verdict = AnswerClassifier.Classify(status, response.Content.Headers.ContentType?.MediaType, body.GetBuffer().AsSpan(0, (int)body.Length), Tenant.Streamed);
            double? firstTokenMs = verdict.Kind == VerdictKind.Completed && firstToken != 0
                ? Math.Round(Stopwatch.GetElapsedTime(sent, firstToken).TotalMilliseconds, 3)
                : null;
            return (verdict, firstTokenMs, response.Headers.RetryAfter?.Delta);
        }
    }
}

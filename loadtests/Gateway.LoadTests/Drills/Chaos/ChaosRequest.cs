using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Gateway.LoadTests.Targets;

namespace Gateway.LoadTests.Drills.Chaos;

/// <summary>
/// One chat completion of a chaos phase, plain or streamed, sent and read to its end within a fixed deadline, then
/// classified (<see cref="AnswerClassifier"/>). A refused connection and a failure on the way are verdicts too, never
/// exceptions; only the drill's own cancellation (Ctrl+C) is thrown.
/// </summary>
internal sealed class ChaosRequest
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly HttpClient _client;
    private readonly Uri _endpoint;
    private readonly string _host;
    private readonly byte[] _body;
    private readonly TimeSpan _deadline;

    public ChaosRequest(HttpClient client, Uri baseAddress, string host, string body, bool streamed, TimeSpan deadline)
    {
        _client = client;
        _endpoint = new Uri(baseAddress, "v1/chat/completions");
        _host = host;
        Streamed = streamed;
        _body = Encoding.UTF8.GetBytes(streamed ? ChatRequest.Streamed(body) : body);
        _deadline = deadline;
    }

    public bool Streamed { get; }

    /// <summary>Sends the request and reads its answer to the end or to the deadline; the verdict, and the Retry-After the answer asked for.</summary>
    public async Task<(Verdict Verdict, TimeSpan? RetryAfter)> SendAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_deadline);
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(_body) };
        request.Content.Headers.ContentType = Json;
        request.Headers.Host = _host;
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        }
        catch (HttpRequestException e) when (IsRefused(e))
        {
            return (Verdict.Refused(e.Message), null);
        }
        catch (HttpRequestException e)
        {
            return (Verdict.Lost("failed before an answer", $"{e.HttpRequestError}: {e.Message}"), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (Verdict.Lost("no answer by the deadline", $"no status within {_deadline.TotalSeconds:0} s"), null);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            byte[] body;
            try
            {
                body = await response.Content.ReadAsByteArrayAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return (Verdict.Lost("no answer by the deadline", $"status {status}, the body not ended within {_deadline.TotalSeconds:0} s"), null);
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                return (Verdict.Lost("connection broken mid-body", $"status {status}: {e.Message}"), null);
            }

            var retryAfter = response.Headers.RetryAfter?.Delta;
            return (AnswerClassifier.Classify(status, response.Content.Headers.ContentType?.MediaType, body, Streamed), retryAfter);
        }
    }

    private static bool IsRefused(HttpRequestException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                return true;
            }
        }

        return false;
    }
}

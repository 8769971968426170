using System.Globalization;
using System.Text.Json;
using Gateway.Simulator.Engine;
using Gateway.Simulator.Options;
using Gateway.Simulator.Telemetry;

namespace Gateway.Simulator.Api;

/// <summary>
/// <c>POST /v1/chat/completions</c> and <c>POST /v1/completions</c>: validate, maybe inject a failure, wait
/// for a sequence, then generate tokens at the simulated pace, plain or streamed. A client that goes away
/// aborts its sequence at once, wherever it is, and frees its slot.
/// </summary>
internal sealed class CompletionEndpoint(
    SimulatorOptions options,
    SequenceScheduler scheduler,
    LatencyModel latency,
    FailureInjector failures,
    StartupGate startup,
    SimulatorMetrics metrics,
    TimeProvider time)
{
    // Read once: without --otlp-traces-endpoint no request looks for a span.
    private readonly bool _traced = options.OtlpTracesEndpoint is not null;
    private long _requestCount;

    public async Task HandleAsync(HttpContext context, EndpointKind kind)
    {
        var arrival = time.GetTimestamp();
        var aborted = context.RequestAborted;
        var response = context.Response;
        if (!startup.IsReady)
        {
            await ApiError.Unavailable("The model is still loading.").WriteAsync(response);
            return;
        }

        CompletionRequest? request;
        ApiError? error;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, aborted);
            request = CompletionRequest.Read(document.RootElement, kind, options, out error);
        }
        catch (JsonException e)
        {
            request = null;
            error = ApiError.BadRequest("The request body is not valid JSON: " + e.Message);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or BadHttpRequestException)
        {
            return;
        }

        error ??= failures.Draw();
        if (error is not null || request is null)
        {
            await error!.WriteAsync(response);
            return;
        }

        var admission = scheduler.Admit(aborted);
        if (admission.IsRejected)
        {
            await ApiError.Unavailable(
                string.Create(CultureInfo.InvariantCulture, $"The waiting queue is full ({options.MaxWaitingQueueLength} requests).")).WriteAsync(response);
            return;
        }

        await RunAsync(context, kind, request, admission, arrival);
    }

    private async Task RunAsync(HttpContext context, EndpointKind kind, CompletionRequest request, Admission admission, long arrival)
    {
        var aborted = context.RequestAborted;
        var response = context.Response;
        var number = Interlocked.Increment(ref _requestCount);
        var seed = TokenText.RequestSeed(options.Seed, number);
        var id = string.Create(CultureInfo.InvariantCulture, $"{(kind == EndpointKind.Chat ? "chatcmpl" : "cmpl")}-{seed:x16}{number:x16}");
        using var writer = new CompletionWriter(response.BodyWriter, kind, id, time.GetUtcNow().ToUnixTimeSeconds(), request.Model);

        if (request.Stream)
        {
            // As vLLM does, the stream's headers go out at once; the events follow as the engine produces them.
            response.ContentType = "text/event-stream; charset=utf-8";
            response.Headers.CacheControl = "no-cache";
            try
            {
                // StartAsync only commits the headers; Kestrel sends them with the first flush.
                await response.StartAsync(aborted);
                await response.BodyWriter.FlushAsync(aborted);
            }
            catch (Exception e) when (IsDisconnect(e, aborted))
            {
                await AbandonAsync(admission);
                return;
            }
        }

        if (admission.IsWaiting)
        {
            try
            {
                await admission.WaitAsync();
            }
            catch (OperationCanceledException)
            {
                metrics.Finished(FinishReason.Abort, time.GetElapsedTime(arrival));
                return;
            }
        }

        var sequence = new SequenceState(scheduler, request.PromptTokens);
        var produced = 0;
        var finishReason = request.MaxTokensGiven ? FinishReason.Length : FinishReason.Stop;
        var queued = time.GetElapsedTime(arrival);
        TimeSpan? firstToken = null;
        try
        {
            metrics.QueueTime(queued);
            metrics.PromptProcessed(request.PromptTokens);

            if (!latency.IsZero)
            {
                await Task.Delay(latency.TimeToFirstToken(request.PromptTokens, scheduler.Running), time, aborted);
            }

            var firstTokenAt = time.GetTimestamp();
            firstToken = time.GetElapsedTime(arrival, firstTokenAt);
            metrics.TimeToFirstToken(firstToken.Value);
            var lastTokenAt = firstTokenAt;
            for (var generated = 1; generated <= request.MaxTokens; generated++)
            {
                if (generated > 1 && !latency.IsZero)
                {
                    await Task.Delay(latency.InterTokenLatency(scheduler.Running), time, aborted);
                    var now = time.GetTimestamp();
                    metrics.InterTokenLatency(time.GetElapsedTime(lastTokenAt, now));
                    lastTokenAt = now;
                }

                sequence.Generated(generated);
                produced = generated;
                if (request.Stream)
                {
                    if (generated == 1 && kind == EndpointKind.Chat)
                    {
                        writer.WriteRoleChunk();
                    }

                    writer.WriteTokenChunk(TokenText.Token(seed, generated - 1), generated == request.MaxTokens ? finishReason : null);
                    var flushed = await response.BodyWriter.FlushAsync(aborted);
                    if (flushed.IsCompleted || flushed.IsCanceled)
                    {
                        throw new OperationCanceledException(aborted);
                    }
                }
            }

            if (request.Stream)
            {
                if (request.IncludeUsage)
                {
                    writer.WriteUsageChunk(request.PromptTokens, produced);
                }

                writer.WriteDone();
            }
            else
            {
                response.ContentType = "application/json";
                writer.WritePlain(seed, produced, request.PromptTokens, finishReason);
            }

            await response.BodyWriter.FlushAsync(aborted);
        }
        catch (Exception e) when (IsDisconnect(e, aborted))
        {
            finishReason = FinishReason.Abort;
        }
        finally
        {
            sequence.End();
        }

        var end = time.GetElapsedTime(arrival);
        metrics.TokensGenerated(produced);
        metrics.Finished(finishReason, end);
        if (_traced)
        {
            LlmRequestSpan.Of(context)?.Ran(request, id, produced, queued, firstToken, end);
        }
    }

    private static bool IsDisconnect(Exception e, CancellationToken aborted) =>
        e is OperationCanceledException || (e is IOException && aborted.IsCancellationRequested);

    private async Task AbandonAsync(Admission admission)
    {
        // The client left before its stream started: give back a slot it may already hold or be about to get.
        try
        {
            await admission.WaitAsync();
        }
        catch (OperationCanceledException)
        {
            return;
        }

        new SequenceState(scheduler, 0).End();
    }

    /// <summary>The KV blocks one running sequence holds, returned with its slot when it ends.</summary>
    private sealed class SequenceState
    {
        private readonly SequenceScheduler _scheduler;
        private readonly int _promptTokens;
        private int _tokens;

        public SequenceState(SequenceScheduler scheduler, int promptTokens)
        {
            _scheduler = scheduler;
            _promptTokens = promptTokens;
            _tokens = promptTokens;
            scheduler.HoldTokens(0, promptTokens);
        }

        public void Generated(int count)
        {
            var tokens = _promptTokens + count;
            _scheduler.HoldTokens(_tokens, tokens);
            _tokens = tokens;
        }

        public void End() => _scheduler.Release(_tokens);
    }
}

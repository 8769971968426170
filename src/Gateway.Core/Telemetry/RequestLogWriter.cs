using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Telemetry;

/// <summary>
/// Writes the <see cref="RequestLog"/>'s lines into its <see cref="RequestLogFile"/>, off the request path: lines go
/// into the file's buffer as they come, and the buffer to the file at least every <see cref="FlushInterval"/> and at
/// stop. A file that cannot be written (disk full, permission) costs the lines it loses, each counted in
/// <c>gateway_request_log_dropped_total</c>, and one log message per distinct failure; the gateway serves on, and the
/// file is opened again for the next lines.
/// </summary>
internal sealed partial class RequestLogWriter : BackgroundService
{
    /// <summary>The longest a written line stays in the buffer.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    private static readonly byte[] NewLine = "\n"u8.ToArray();

    private readonly RequestLog _log;
    private readonly RequestLogFile _file;
    private readonly TimeProvider _time;
    private readonly ILogger<RequestLogWriter> _logger;
    private readonly ArrayBufferWriter<byte> _line = new(1024);
    private readonly Utf8JsonWriter _json;
    private readonly Lock _gate = new();
    private string? _failure;

    /// <summary>A writer of <paramref name="log"/>'s lines into <paramref name="file"/>.</summary>
    public RequestLogWriter(RequestLog log, RequestLogFile file, TimeProvider time, ILogger<RequestLogWriter> logger)
    {
        _log = log;
        _file = file;
        _time = time;
        _logger = logger;
        _json = new Utf8JsonWriter(_line);
    }

    /// <summary>Writes every line waiting in the queue into the file's buffer; returns how many were taken from the queue.</summary>
    internal int WriteWaiting()
    {
        var taken = 0;
        lock (_gate)
        {
            while (_log.Reader.TryRead(out var entry))
            {
                taken++;
                _line.ResetWrittenCount();
                _json.Reset(_line);
                entry.WriteTo(_json);
                _json.Flush();
                _line.Write(NewLine);
                try
                {
                    _file.Write(_line.WrittenSpan);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Failed(e, _file.Unflushed + 1);
                }
            }
        }

        return taken;
    }

    /// <summary>Puts the buffered lines in the file.</summary>
    internal void Flush()
    {
        lock (_gate)
        {
            try
            {
                // Only lines that reached the file say it is written again: a full disk still takes them into the buffer.
                var flushing = _file.Unflushed;
                _file.Flush();
                if (flushing > 0)
                {
                    Recovered();
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Failed(e, _file.Unflushed);
            }
        }
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _log.Reader;
        using var timer = new PeriodicTimer(FlushInterval, _time);
        var tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
        var waiting = reader.WaitToReadAsync(stoppingToken).AsTask();
        try
        {
            while (true)
            {
                if (await Task.WhenAny(waiting, tick) == tick)
                {
                    if (!await tick)
                    {
                        return;
                    }

                    Flush();
                    tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
                    continue;
                }

                if (!await waiting)
                {
                    return;
                }

                WriteWaiting();
                waiting = reader.WaitToReadAsync(stoppingToken).AsTask();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync writes what is left.
        }
    }

    /// <summary>Stops taking lines, then writes those still waiting and closes the file.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        _log.Complete();
        WriteWaiting();
        lock (_gate)
        {
            try
            {
                _file.Dispose();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Failed(e, _file.Unflushed);
            }
        }
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        base.Dispose();
        lock (_gate)
        {
            _json.Dispose();
            _file.Abandon();
        }
    }

    private void Failed(Exception exception, int lost)
    {
        _file.Abandon();
        _log.Dropped(lost);

        // Once per distinct failure: a full disk fails every line alike, and the counter says how many.
        if (exception.Message != _failure)
        {
            _failure = exception.Message;
            LogWriteFailed(_logger, exception.Message, exception);
        }
    }

    private void Recovered()
    {
        if (_failure is not null)
        {
            _failure = null;
            LogWriteRecovered(_logger);
        }
    }

    [LoggerMessage(EventId = 6000, Level = LogLevel.Error,
        Message = "The request log cannot be written ({Failure}); its lines are dropped and counted in gateway_request_log_dropped_total until it can")]
    private static partial void LogWriteFailed(ILogger logger, string failure, Exception exception);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "The request log is written again")]
    private static partial void LogWriteRecovered(ILogger logger);
}

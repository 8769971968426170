using System.Threading.Channels;
using Gateway.Configuration;
using Prometheus;

namespace Gateway.Telemetry;

/// <summary>
/// Where the request path hands its <see cref="RequestLogEntry"/> over: a bounded queue the
/// <see cref="RequestLogWriter"/> empties into the file, off the request path. A request never waits for it: when the
/// queue is full its line is dropped and counted in <c>gateway_request_log_dropped_total</c>. Without a
/// <see cref="RequestLogOptions.Path"/> there is no queue, and handing an entry over does nothing.
/// </summary>
internal sealed class RequestLog
{
    private readonly Channel<RequestLogEntry>? _channel;
    private readonly Counter _dropped;

    /// <summary>The log <paramref name="options"/> describe, counting what it drops in <paramref name="metrics"/>.</summary>
    public RequestLog(RequestLogOptions options, GatewayMetrics metrics)
    {
        _dropped = metrics.RequestLogDropped;
        if (options.Path is not null)
        {
            // Wait mode only so that TryWrite says false when the queue is full: nothing ever waits on it.
            _channel = Channel.CreateBounded<RequestLogEntry>(new BoundedChannelOptions(options.QueueCapacity)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = true,
                SingleWriter = false,
                AllowSynchronousContinuations = false,
            });
        }
    }

    /// <summary>Whether lines are written: a path was given.</summary>
    public bool IsOn => _channel is not null;

    /// <summary>The lines waiting to be written, for the <see cref="RequestLogWriter"/>.</summary>
    internal ChannelReader<RequestLogEntry> Reader =>
        _channel?.Reader ?? throw new InvalidOperationException("The request log is off: no path was given.");

    /// <summary>
    /// Queues <paramref name="entry"/> to be written, or counts it as dropped when the queue is full or the writer has
    /// stopped; nothing when the log is off. Never waits, never allocates.
    /// </summary>
    public void Add(in RequestLogEntry entry)
    {
        if (_channel is not null && !_channel.Writer.TryWrite(entry))
        {
            _dropped.Inc();
        }
    }

    /// <summary>Counts <paramref name="lines"/> the writer could not write.</summary>
    internal void Dropped(int lines) => _dropped.Inc(lines);

    /// <summary>Ends the queue as the writer stops: a line handed over afterwards is counted as dropped.</summary>
    internal void Complete() => _channel?.Writer.TryComplete();
}

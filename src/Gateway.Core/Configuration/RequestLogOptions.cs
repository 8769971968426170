namespace Gateway.Configuration;

/// <summary>
/// The request log: one JSON line per inference request (when it arrived, whose it was, what it asked for, where it ran
/// and how long it took), for replaying real traffic in the what-if planner. Never the prompt or the answer. Off unless
/// <see cref="Path"/> is given.
/// </summary>
public sealed class RequestLogOptions
{
    /// <summary>The default of <see cref="MaxFileBytes"/>: 100 MiB.</summary>
    public const long DefaultMaxFileBytes = 100L * 1024 * 1024;

    /// <summary>
    /// The file lines are written to, e.g. <c>/var/log/gateway/requests.jsonl</c>; its folder is created when missing. A full
    /// file is renamed <c>{Path}.1</c> (the one before it <c>{Path}.2</c>, and so on) and a new one begun. Absent: no log.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>Bytes a file may reach before it is rotated; at least 64 KiB.</summary>
    public long MaxFileBytes { get; set; } = DefaultMaxFileBytes;

    /// <summary>Rotated files kept beside the current one (1 to 100); the oldest beyond them is deleted.</summary>
    public int MaxFiles { get; set; } = 5;

    /// <summary>
    /// Lines that may wait to be written (1 to 1,000,000); a request finding them all taken has its line dropped and counted
    /// in <c>gateway_request_log_dropped_total</c>, never waits.
    /// </summary>
    public int QueueCapacity { get; set; } = 10_000;
}

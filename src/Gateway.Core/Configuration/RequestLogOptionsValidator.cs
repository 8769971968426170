namespace Gateway.Configuration;

/// <summary>Checks <see cref="RequestLogOptions"/>; whether <see cref="RequestLogOptions.Path"/> can be written is found at start.</summary>
internal static class RequestLogOptionsValidator
{
    /// <summary>The smallest <see cref="RequestLogOptions.MaxFileBytes"/>: 64 KiB.</summary>
    public const long MinFileBytes = 64 * 1024;

    /// <summary>The most <see cref="RequestLogOptions.MaxFiles"/>.</summary>
    public const int MaxRotatedFiles = 100;

    /// <summary>The most <see cref="RequestLogOptions.QueueCapacity"/>.</summary>
    public const int MaxQueueCapacity = 1_000_000;

    /// <summary>Adds a message to <paramref name="errors"/> for every bad value under <paramref name="path"/> (<c>Gateway:RequestLog</c>).</summary>
    public static void Check(List<string> errors, RequestLogOptions log, string path)
    {
        if (log.Path is not null && string.IsNullOrWhiteSpace(log.Path))
        {
            errors.Add($"{path}:Path: must name a file, or be left out to turn the request log off");
        }

        if (log.MaxFileBytes < MinFileBytes)
        {
            errors.Add($"{path}:MaxFileBytes: must be at least {MinFileBytes} (64 KiB), got {log.MaxFileBytes}");
        }

        if (log.MaxFiles is < 1 or > MaxRotatedFiles)
        {
            errors.Add($"{path}:MaxFiles: must be between 1 and {MaxRotatedFiles}, got {log.MaxFiles}");
        }

        if (log.QueueCapacity is < 1 or > MaxQueueCapacity)
        {
            errors.Add($"{path}:QueueCapacity: must be between 1 and {MaxQueueCapacity}, got {log.QueueCapacity}");
        }
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Gateway.Tests;

/// <summary>A logger that keeps every entry for assertions and echoes it to the test's output for failures.</summary>
internal sealed class RecordingLogger<T>(ITestOutputHelper? output = null) : ILogger<T>
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var message = formatter(state, exception);
        _entries.Enqueue(new LogEntry(logLevel, eventId.Id, message));
        try
        {
            output?.WriteLine($"{logLevel} {eventId.Id} {message}{(exception is null ? "" : " " + exception)}");
        }
        catch (InvalidOperationException)
        {
            // The test has finished; a process still writing its last lines is not its failure.
        }
    }
}

internal sealed record LogEntry(LogLevel Level, int EventId, string Message);

using System.Text.Json;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Telemetry;
using Gateway.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Telemetry;

/// <summary>The request log's writer on a temporary folder and a fake clock: lines, flushes, rotation, failures.</summary>
public sealed class RequestLogWriterTests : IDisposable
{
    private const string Key = "Gateway:RequestLog:Path";

    private readonly string _folder = Directory.CreateTempSubdirectory("request-log-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 1, 51, 35, TimeSpan.Zero));
    private readonly GatewayMetrics _metrics = new(TestTopology.Build(TestTopology.Options(TestTopology.Service(TestTopology.Pool("on-prem", 0, 4, "http://10.0.0.1:8000")))), TimeProvider.System);
    private readonly RecordingLogger<RequestLogWriter> _logger = new();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static RequestLogEntry Entry(int number) => new()
    {
        Time = new DateTimeOffset(2026, 12, 4, 1, 51, 35, TimeSpan.Zero),
        Service = "qwen-chat",
        Tenant = Tenant.Anonymous,
        Kind = InferenceTelemetry.ChatOperation,
        Stream = false,
        RequestBytes = number,
        Pool = "on-prem",
        Attempts = 1,
        Duration = TimeSpan.FromMilliseconds(400),
        Status = 200,
    };

    private (RequestLog Log, RequestLogWriter Writer, string Path) Start(long maxFileBytes = RequestLogOptions.DefaultMaxFileBytes, int maxFiles = 5, string file = "logs/requests.jsonl")
    {
        var options = new RequestLogOptions { Path = Path.Combine(_folder, file), MaxFileBytes = maxFileBytes, MaxFiles = maxFiles, QueueCapacity = 100_000 };
        var log = new RequestLog(options, _metrics);
        return (log, new RequestLogWriter(log, RequestLogFile.Open(options, Key), _time, _logger), options.Path);
    }

    private static string[] Lines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public async Task Writer_WritesOneLinePerEntry_FlushedWithinASecond_AndTheRestAtStop()
    {
        var (log, writer, path) = Start();
        await writer.StartAsync(CancellationToken.None);
        try
        {
            Assert.True(Directory.Exists(Path.Combine(_folder, "logs")));
            log.Add(Entry(1));
            log.Add(Entry(2));
            await Eventually.WaitAsync(
                () =>
                {
                    _time.Advance(TimeSpan.FromSeconds(1));
                    return Task.FromResult(Lines(path).Length);
                },
                n => n == 2, TimeSpan.FromSeconds(10), "both lines in the file after a flush");

            log.Add(Entry(3));
        }
        finally
        {
            await writer.StopAsync(CancellationToken.None);
            writer.Dispose();
        }

        var lines = Lines(path);
        Assert.Equal([1, 2, 3], lines.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("request_bytes").GetInt32()));
        Assert.Equal(0, _metrics.RequestLogDropped.Value);
    }

    [Fact]
    public void WriteWaiting_PastMaxFileBytes_RotatesAndKeepsMaxFilesRotatedFiles()
    {
        var (log, writer, path) = Start(maxFileBytes: 64 * 1024, maxFiles: 2, file: "requests.jsonl");
        const int Entries = 3000; // about 200 bytes each: 9 files' worth
        for (var i = 1; i <= Entries; i++)
        {
            log.Add(Entry(i));
        }

        writer.WriteWaiting();
        writer.Flush();
        writer.Dispose();

        Assert.Equal(
            ["requests.jsonl", "requests.jsonl.1", "requests.jsonl.2"],
            Directory.GetFiles(_folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var numbers = new List<int>();
        foreach (var file in new[] { RequestLogFile.Rotated(path, 2), RequestLogFile.Rotated(path, 1), path })
        {
            Assert.InRange(new FileInfo(file).Length, 1, 64 * 1024);
            numbers.AddRange(Lines(file).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("request_bytes").GetInt32()));
        }

        // The newest lines, oldest first and none missing, across the three files kept.
        Assert.Equal(Enumerable.Range(Entries - numbers.Count + 1, numbers.Count), numbers);
        Assert.True(numbers.Count > 2 * 300, $"only {numbers.Count} lines kept");
    }

    [Fact]
    public void WriteWaiting_FileCannotBeRotated_CountsTheLinesAsDroppedAndLogsOnce()
    {
        var (log, writer, path) = Start(maxFileBytes: 64 * 1024, maxFiles: 1, file: "requests.jsonl");

        // A folder where the rotated file must go: every rotation fails, as a full disk or a lost permission would.
        Directory.CreateDirectory(Path.Combine(RequestLogFile.Rotated(path, 1), "taken"));
        for (var i = 1; i <= 1000; i++)
        {
            log.Add(Entry(i));
        }

        var taken = writer.WriteWaiting();
        writer.Flush();
        writer.Dispose();

        var written = Lines(path).Length;
        Assert.Equal(1000, taken);
        Assert.InRange(written, 300, 400);
        Assert.Equal(1000 - written, _metrics.RequestLogDropped.Value);
        var error = Assert.Single(_logger.Entries, e => e.Level == LogLevel.Error);
        Assert.Equal(6000, error.EventId);
        Assert.StartsWith("The request log cannot be written (", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_FolderCannotBeCreated_StopsTheStartNamingThePath()
    {
        var file = Path.Combine(_folder, "not-a-folder");
        File.WriteAllText(file, "");

        var error = Assert.Single(Assert.Throws<GatewayConfigurationException>(
            () => RequestLogFile.Open(new RequestLogOptions { Path = Path.Combine(file, "requests.jsonl") }, Key)).Errors);

        Assert.StartsWith($"Gateway:RequestLog:Path: cannot write the request log '{Path.Combine(file, "requests.jsonl")}': ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_PathIsAFolder_StopsTheStartNamingThePath()
    {
        var error = Assert.Single(Assert.Throws<GatewayConfigurationException>(
            () => RequestLogFile.Open(new RequestLogOptions { Path = _folder }, Key)).Errors);

        Assert.StartsWith($"Gateway:RequestLog:Path: cannot write the request log '{_folder}': ", error, StringComparison.Ordinal);
    }
}

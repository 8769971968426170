using System.Buffers;
using System.Text;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Telemetry;

namespace Gateway.Tests.Telemetry;

public sealed class RequestLogEntryTests
{
    private static readonly DateTimeOffset Arrival = new(2026, 12, 4, 1, 51, 35, 123, TimeSpan.Zero);

    private static string Line(in RequestLogEntry entry)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            entry.WriteTo(json);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Fact]
    public void WriteTo_AnsweredRequest_IsOneObjectWithEveryField()
    {
        var entry = new RequestLogEntry
        {
            Time = Arrival.AddTicks(4567),
            Service = "qwen-chat",
            Tenant = TestTopology.NewTenant("search", PriorityClass.Critical),
            Kind = InferenceTelemetry.ChatOperation,
            Stream = true,
            RequestBytes = 412,
            MaxTokens = 64,
            PromptTokens = 37,
            CompletionTokens = 64,
            Pool = "cloud",
            Attempts = 2,
            QueueWait = TimeSpan.FromTicks(12_345_678),
            TimeToFirstToken = TimeSpan.FromMilliseconds(85.25),
            Duration = TimeSpan.FromSeconds(1.5),
            Status = 200,
        };

        Assert.Equal(
            """{"time":"2026-12-04T01:51:35.123Z","service":"qwen-chat","tenant":"search","priority":"Critical","kind":"chat","stream":true,"request_bytes":412,"max_tokens":64,"prompt_tokens":37,"completion_tokens":64,"pool":"cloud","attempts":2,"queue_wait_ms":1234.568,"ttft_ms":85.25,"duration_ms":1500,"status":200}""",
            Line(entry));
    }

    [Fact]
    public void WriteTo_RequestTurnedAwayBeforeItsBodyWasRead_LeavesOutWhatIsUnknown()
    {
        var entry = new RequestLogEntry
        {
            Time = new DateTimeOffset(2026, 12, 4, 3, 51, 35, 7, TimeSpan.FromHours(2)),
            Kind = InferenceTelemetry.TextCompletionOperation,
            Duration = TimeSpan.FromMilliseconds(0.25),
            Status = 401,
            Reason = RejectionReasons.Unauthorized,
        };

        Assert.Equal(
            """{"time":"2026-12-04T01:51:35.007Z","kind":"text_completion","attempts":0,"duration_ms":0.25,"status":401,"reason":"unauthorized"}""",
            Line(entry));
    }

    [Fact]
    public void WriteTo_QueueFull_NamesTheServiceTenantAndReasonButNoPool()
    {
        var entry = new RequestLogEntry
        {
            Time = Arrival,
            Service = "qwen-chat",
            Tenant = TestTopology.NewTenant("batch", PriorityClass.Sheddable),
            Kind = InferenceTelemetry.ChatOperation,
            Stream = false,
            RequestBytes = 90,
            QueueWait = TimeSpan.Zero,
            Duration = TimeSpan.FromMilliseconds(2),
            Status = 429,
            Reason = RejectionReasons.QueueFull,
        };

        Assert.Equal(
            """{"time":"2026-12-04T01:51:35.123Z","service":"qwen-chat","tenant":"batch","priority":"Sheddable","kind":"chat","stream":false,"request_bytes":90,"attempts":0,"queue_wait_ms":0,"duration_ms":2,"status":429,"reason":"queue_full"}""",
            Line(entry));
    }
}

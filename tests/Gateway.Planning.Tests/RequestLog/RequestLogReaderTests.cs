using Gateway.Requests;
using Gateway.Configuration;

namespace Gateway.Planning.Tests.RequestLog;

public sealed class RequestLogReaderTests
{
    private const string Served =
        """{"time":"2026-12-04T10:00:00.000Z","service":"qwen-chat","tenant":"team-a","priority":"standard","kind":"chat","stream":true,"request_bytes":212,"max_tokens":10,"prompt_tokens":8,"completion_tokens":10,"pool":"on-prem","attempts":1,"queue_wait_ms":0.5,"ttft_ms":201.25,"duration_ms":512,"status":200}""";

    private const string Rejected =
        """{"time":"2026-12-04T10:00:01.500Z","service":"qwen-chat","tenant":null,"priority":"Sheddable","kind":"text_completion","stream":false,"request_bytes":400,"prompt_tokens":90,"pool":null,"attempts":0,"queue_wait_ms":30000,"ttft_ms":null,"duration_ms":30001,"status":429,"reason":"queue_timeout"}""";

    [Fact]
    public void Read_Lines_BecomeRequestsWithWhatTheLogRecorded()
    {
        var workload = Read(Served, Rejected);

        Assert.Equal(2, workload.Requests.Count);
        var served = workload.Requests[0];
        Assert.Equal(new TraceRequest(TimeSpan.Zero, "qwen-chat", "team-a", PriorityClass.Standard, RequestKind.Chat, 8, 10, 10, true), served with { Recorded = null });
        Assert.Equal(new RecordedOutcome(200, null, "on-prem", 1, TimeSpan.FromMilliseconds(0.5), TimeSpan.FromMilliseconds(201.25), TimeSpan.FromMilliseconds(512)), served.Recorded);
    }

    [Fact]
    public void Read_RejectedLine_IsStillAnArrival()
    {
        var rejected = Read(Served, Rejected).Requests[1];

        Assert.Equal(new TraceRequest(TimeSpan.FromSeconds(1.5), "qwen-chat", null, PriorityClass.Sheddable, RequestKind.Text, 90, null, 64, false), rejected with { Recorded = null });
        Assert.Equal(new RecordedOutcome(429, "queue_timeout", null, 0, TimeSpan.FromSeconds(30), null, TimeSpan.FromMilliseconds(30001)), rejected.Recorded);
    }

    [Fact]
    public void Read_LinesWrittenAsRequestsEnd_AreSortedByArrival()
    {
        // The long request arrived first but ended last, so it was written last; offsets count from the earliest time.
        var workload = Read(Line("10:00:05Z", "\"prompt_tokens\":2"), Line("10:00:03Z", "\"prompt_tokens\":1"), Line("10:00:05Z", "\"prompt_tokens\":3"));

        Assert.Equal([(0.0, 1), (2.0, 2), (2.0, 3)], workload.Requests.Select(r => (r.ArrivalOffset.TotalSeconds, r.PromptTokens)));
    }

    [Fact]
    public void Read_NoPromptTokens_EstimatesFromTheBodyAtFourBytesAToken()
    {
        var workload = Read(Line("10:00:00Z", "\"request_bytes\":201"), Line("10:00:01Z", "\"request_bytes\":200"));

        Assert.Equal([51, 50], workload.Requests.Select(r => r.PromptTokens));
    }

    [Fact]
    public void Read_Completion_IsTheLoggedCountElseMaxTokensElseTheDefault()
    {
        var workload = Read(
            Line("10:00:00Z", "\"prompt_tokens\":1,\"max_tokens\":10,\"completion_tokens\":7"),
            Line("10:00:01Z", "\"prompt_tokens\":1,\"max_tokens\":10"),
            Line("10:00:02Z", "\"prompt_tokens\":1"));

        Assert.Equal([7, 10, 64], workload.Requests.Select(r => r.CompletionTokens));
        Assert.Equal([10, 10, null], workload.Requests.Select(r => r.MaxTokens));
    }

    [Fact]
    public void Read_BlankLinesAndUnknownFields_AreSkipped()
    {
        var workload = Read("", Line("10:00:00Z", "\"prompt_tokens\":1,\"new_field\":{\"a\":[1]}"), "   ");

        Assert.Single(workload.Requests);
        Assert.Equal(new RecordedOutcome(200, null, null, 0, TimeSpan.Zero, null, TimeSpan.Zero), workload.Requests[0].Recorded);
    }

    [Fact]
    public void Read_Empty_IsAnEmptyWorkload()
    {
        Assert.Empty(Read().Requests);
    }

    [Theory]
    [InlineData("not json", "log:2: not JSON: ")]
    [InlineData("[1]", "log:2: not a JSON object")]
    [InlineData("""{"priority":"standard","kind":"chat","stream":false,"status":200,"prompt_tokens":1}""", "log:2: field 'time': missing")]
    [InlineData("""{"time":"yesterday","priority":"standard","kind":"chat","stream":false,"status":200,"prompt_tokens":1}""", "log:2: field 'time': expected an ISO 8601 time, got \"yesterday\"")]
    [InlineData("""{"time":"2026-12-04T10:00:00Z","priority":"7","kind":"chat","stream":false,"status":200,"prompt_tokens":1}""", "log:2: field 'priority': expected critical, standard or sheddable, got \"7\"")]
    [InlineData("""{"time":"2026-12-04T10:00:00Z","priority":"standard","kind":"embeddings","stream":false,"status":200,"prompt_tokens":1}""", "log:2: field 'kind': expected chat or text_completion, got \"embeddings\"")]
    [InlineData("""{"time":"2026-12-04T10:00:00Z","priority":"standard","kind":"chat","stream":"yes","status":200,"prompt_tokens":1}""", "log:2: field 'stream': expected true or false, got \"yes\"")]
    [InlineData("""{"time":"2026-12-04T10:00:00Z","priority":"standard","kind":"chat","stream":false,"status":200,"prompt_tokens":-1}""", "log:2: field 'prompt_tokens': expected a whole number of at least 0, got -1")]
    [InlineData("""{"time":"2026-12-04T10:00:00Z","priority":"standard","kind":"chat","stream":false,"status":200}""", "log:2: field 'prompt_tokens': missing, and no 'request_bytes' to estimate it from")]
    [InlineData("""{"time":"2026-12-04T10:00:00Z","priority":"standard","kind":"chat","stream":false,"status":"ok","prompt_tokens":1}""", "log:2: field 'status': expected an HTTP status from 100 to 599, got \"ok\"")]
    [InlineData("""{"time":"2026-12-04T10:00:00Z","priority":"standard","kind":"chat","stream":false,"status":200,"prompt_tokens":1,"ttft_ms":"fast"}""", "log:2: field 'ttft_ms': expected milliseconds, 0 or more, got \"fast\"")]
    [InlineData("""{"time":"2026-12-04T10:00:00Z","priority":"standard","kind":"chat","stream":false,"status":200,"prompt_tokens":1,"pool":3}""", "log:2: field 'pool': expected a string, got 3")]
    public void Read_BadLine_NamesTheLineAndTheField(string line, string message)
    {
        var e = Assert.Throws<FormatException>(() => Read(Served, line, Served));

        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_RotatedFiles_AreOneTraceOldestFirst()
    {
        var directory = Directory.CreateTempSubdirectory("request-log-");
        try
        {
            var path = Path.Combine(directory.FullName, "requests.jsonl");
            File.WriteAllLines(path + ".2", [Line("10:00:00Z", "\"prompt_tokens\":1")]);
            File.WriteAllLines(path + ".1", [Line("10:00:10Z", "\"prompt_tokens\":2")]);
            File.WriteAllLines(path, [Line("10:00:20Z", "\"prompt_tokens\":3")]);
            File.WriteAllLines(path + ".4", [Line("09:00:00Z", "\"prompt_tokens\":4")]);

            var files = RequestLogReader.WithRotated(path);
            var workload = RequestLogReader.Read(files);

            // requests.jsonl.4 is not read: .3 is missing, so the rotation ends at .2.
            Assert.Equal([path + ".2", path + ".1", path], files);
            Assert.Equal([(0.0, 1), (10.0, 2), (20.0, 3)], workload.Requests.Select(r => (r.ArrivalOffset.TotalSeconds, r.PromptTokens)));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Read_BadLineInAFile_NamesTheFile()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(path, [Line("10:00:00Z", "\"prompt_tokens\":1"), """{"time":"2026-12-04T10:00:00Z","priority":"standard","kind":"chat","stream":false,"prompt_tokens":1}"""]);

            var e = Assert.Throws<FormatException>(() => RequestLogReader.Read(path));

            Assert.Equal($"{path}:2: field 'status': missing", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static OpenLoopWorkload Read(params string[] lines) =>
        RequestLogReader.Read(new StringReader(string.Join('\n', lines)), "log");

    private static string Line(string time, string fields) =>
        $$"""{"time":"2026-12-04T{{time}}","priority":"standard","kind":"chat","stream":false,"status":200,{{fields}}}""";
}

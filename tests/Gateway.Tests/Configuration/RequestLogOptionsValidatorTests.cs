using Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class RequestLogOptionsValidatorTests
{
    private static List<string> Check(RequestLogOptions log)
    {
        var errors = new List<string>();
        RequestLogOptionsValidator.Check(errors, log, "Gateway:RequestLog");
        return errors;
    }

    [Fact]
    public void Defaults_AreValid_AndOff()
    {
        var log = new RequestLogOptions();

        Assert.Empty(Check(log));
        Assert.Null(log.Path);
        Assert.Equal(100L * 1024 * 1024, log.MaxFileBytes);
        Assert.Equal(5, log.MaxFiles);
        Assert.Equal(10_000, log.QueueCapacity);
    }

    [Fact]
    public void Check_AGoodLog_IsValid()
    {
        Assert.Empty(Check(new RequestLogOptions { Path = "/var/log/gateway/requests.jsonl", MaxFileBytes = 64 * 1024, MaxFiles = 100, QueueCapacity = 1_000_000 }));
        Assert.Empty(Check(new RequestLogOptions { Path = "requests.jsonl", MaxFiles = 1, QueueCapacity = 1 }));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void Check_EmptyPath_NamesIt(string path)
    {
        Assert.Equal(
            ["Gateway:RequestLog:Path: must name a file, or be left out to turn the request log off"],
            Check(new RequestLogOptions { Path = path }));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65535)]
    public void Check_MaxFileBytesUnder64KiB_NamesIt(long bytes)
    {
        Assert.Equal(
            [$"Gateway:RequestLog:MaxFileBytes: must be at least 65536 (64 KiB), got {bytes}"],
            Check(new RequestLogOptions { MaxFileBytes = bytes }));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(101)]
    public void Check_MaxFilesOutside1To100_NamesIt(int files)
    {
        Assert.Equal(
            [$"Gateway:RequestLog:MaxFiles: must be between 1 and 100, got {files}"],
            Check(new RequestLogOptions { MaxFiles = files }));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1_000_001)]
    public void Check_QueueCapacityOutside1ToAMillion_NamesIt(int capacity)
    {
        Assert.Equal(
            [$"Gateway:RequestLog:QueueCapacity: must be between 1 and 1000000, got {capacity}"],
            Check(new RequestLogOptions { QueueCapacity = capacity }));
    }

    [Fact]
    public void Load_BadValues_AreEachNamedUnderGatewayRequestLog()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Services:0:Name"] = "qwen-chat",
            ["Gateway:Services:0:Models:0"] = "qwen",
            ["Gateway:Services:0:Pools:0:Name"] = "on-prem",
            ["Gateway:Services:0:Pools:0:Static:0"] = "http://127.0.0.1:8000",
            ["Gateway:RequestLog:Path"] = "requests.jsonl",
            ["Gateway:RequestLog:MaxFileBytes"] = "1024",
            ["Gateway:RequestLog:MaxFiles"] = "0",
        }).Build();

        var errors = Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(configuration)).Errors;

        Assert.Equal(
            ["Gateway:RequestLog:MaxFileBytes: must be at least 65536 (64 KiB), got 1024", "Gateway:RequestLog:MaxFiles: must be between 1 and 100, got 0"],
            errors);
    }

    [Fact]
    public void Load_RequestLogKeyMisspelt_NamesIt()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:RequestLog:Pth"] = "requests.jsonl",
        }).Build();

        var error = Assert.Single(Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(configuration)).Errors);
        Assert.StartsWith("Gateway:RequestLog:Pth: unknown setting (known here: Path, MaxFileBytes, MaxFiles, QueueCapacity)", error, StringComparison.Ordinal);
    }
}

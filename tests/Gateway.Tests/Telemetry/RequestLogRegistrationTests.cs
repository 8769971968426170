using Gateway.Configuration;
using Gateway.Hosting;
using Gateway.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests.Telemetry;

/// <summary>How <see cref="GatewayApplication.AddInferenceGateway"/> wires the request log: off without a path, checked at start with one.</summary>
public sealed class RequestLogRegistrationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("request-log-start-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static GatewayOptions Options(string? path) => new()
    {
        Services = [TestTopology.Service(TestTopology.Pool("on-prem", 0, 4, "http://10.0.0.1:8000"))],
        RequestLog = new RequestLogOptions { Path = path },
    };

    [Fact]
    public void AddInferenceGateway_NoPath_HasALogThatIsOff_AndNoWriter()
    {
        using var services = new ServiceCollection().AddLogging().AddInferenceGateway(Options(null)).BuildServiceProvider();

        Assert.False(services.GetRequiredService<RequestLog>().IsOn);
        Assert.DoesNotContain(services.GetServices<IHostedService>(), hosted => hosted is RequestLogWriter);
    }

    [Fact]
    public void AddInferenceGateway_Path_CreatesItsFolder_AndAddsTheWriter()
    {
        var path = Path.Combine(_folder, "a", "b", "requests.jsonl");

        using (var services = new ServiceCollection().AddLogging().AddInferenceGateway(Options(path)).BuildServiceProvider())
        {
            Assert.True(services.GetRequiredService<RequestLog>().IsOn);
            Assert.Single(services.GetServices<IHostedService>(), hosted => hosted is RequestLogWriter);
        }

        Assert.True(File.Exists(path));
    }

    [Fact]
    public void AddInferenceGateway_FolderCannotBeCreated_StopsTheStartNamingGatewayRequestLogPath()
    {
        var file = Path.Combine(_folder, "a-file");
        File.WriteAllText(file, "");

        var e = Assert.Throws<GatewayConfigurationException>(() => new ServiceCollection().AddInferenceGateway(Options(Path.Combine(file, "requests.jsonl"))));

        Assert.StartsWith("Gateway:RequestLog:Path: cannot write the request log ", Assert.Single(e.Errors), StringComparison.Ordinal);
    }
}

using Gateway.Configuration;
using Gateway.Forwarding;
using Gateway.Model;

namespace Gateway.Tests.Forwarding;

public sealed class BackendKeysTests : IDisposable
{
    private const string Secret = "sk-backend-secret";

    private readonly string _folder = Directory.CreateTempSubdirectory("backend-keys-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static GatewayOptions TwoPools(Action<PoolOptions> cloud)
    {
        var options = TestTopology.Options(TestTopology.Service(
            TestTopology.Pool("on-prem", 0, 4, "http://10.0.0.1:8000"), TestTopology.Pool("cloud", 1, 4, "http://10.0.1.1:8000")));
        cloud(options.Services[0].Pools[1]);
        return options;
    }

    private static Pool Cloud(GatewayOptions options) => new GatewayTopology(options).Services[0].Pools.Single(p => p.Name == "cloud");

    private string File(string content)
    {
        var path = Path.Combine(_folder, "key");
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Read_KeyFile_IsTrimmedAndSentAsBearer()
    {
        var options = TwoPools(p => p.BackendKeyFile = File($"  {Secret}\n"));

        var keys = BackendKeys.Read(options, _ => null);

        Assert.Equal("Bearer " + Secret, keys.AuthorizationFor(Cloud(options)));
    }

    [Fact]
    public void Read_KeyVariable_IsReadByName()
    {
        var options = TwoPools(p => p.BackendKeyEnv = "VLLM_API_KEY");

        var keys = BackendKeys.Read(options, name => name == "VLLM_API_KEY" ? Secret : null);

        Assert.Equal("Bearer " + Secret, keys.AuthorizationFor(Cloud(options)));
        Assert.Null(keys.AuthorizationFor(new GatewayTopology(options).Services[0].Pools[0]));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(" ")]
    public void Read_VariableUnsetOrEmpty_NamesTheKeyAndTheVariable(string? value)
    {
        var options = TwoPools(p => p.BackendKeyEnv = "VLLM_API_KEY");

        var e = Assert.Throws<GatewayConfigurationException>(() => BackendKeys.Read(options, _ => value));

        Assert.Equal(
            ["Gateway:Services:0:Pools:1:BackendKeyEnv: the environment variable 'VLLM_API_KEY' that should hold the pool's backend key is not set or empty"],
            e.Errors);
    }

    [Fact]
    public void Read_FileMissing_NamesTheKeyAndTheFile()
    {
        var missing = Path.Combine(_folder, "missing");
        var options = TwoPools(p => p.BackendKeyFile = missing);

        var e = Assert.Throws<GatewayConfigurationException>(() => BackendKeys.Read(options, _ => null));

        Assert.StartsWith($"Gateway:Services:0:Pools:1:BackendKeyFile: cannot read the pool's backend key from '{missing}': ", Assert.Single(e.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_FileEmpty_NamesTheKeyAndTheFile()
    {
        var path = File("\n");
        var options = TwoPools(p => p.BackendKeyFile = path);

        var e = Assert.Throws<GatewayConfigurationException>(() => BackendKeys.Read(options, _ => null));

        Assert.Equal([$"Gateway:Services:0:Pools:1:BackendKeyFile: the backend key file '{path}' is empty"], e.Errors);
    }

    [Fact]
    public void Read_KeyWithALineBreakInside_IsRefusedWithoutShowingIt()
    {
        var options = TwoPools(p => p.BackendKeyFile = File(Secret + "\nsecond-line"));

        var e = Assert.Throws<GatewayConfigurationException>(() => BackendKeys.Read(options, _ => null));

        Assert.Equal(
            ["Gateway:Services:0:Pools:1:BackendKeyFile: the backend key holds a control or non-ASCII character, which an Authorization header cannot carry"],
            e.Errors);
        Assert.DoesNotContain(Secret, e.Message, StringComparison.Ordinal);
    }
}

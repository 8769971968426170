using Gateway.Configuration;
using Gateway.Forwarding;
using Gateway.Model;
using Gateway.Tenancy;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Configuration;

/// <summary>The example files under <c>config/examples/</c> load and validate as the gateway loads them, and say what the documentation says.</summary>
public sealed class ExampleConfigurationsTests
{
    private static string ExamplePath(string name)
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "config", "examples", name);
            if (File.Exists(candidate) && File.Exists(Path.Combine(folder.FullName, "Gateway.sln")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"config/examples/{name} not found above " + AppContext.BaseDirectory);
    }

    private static GatewayOptions Load(string name) =>
        GatewayConfiguration.Load(new ConfigurationBuilder().AddJsonFile(ExamplePath(name), optional: false, reloadOnChange: false).Build());

    [Theory]
    [InlineData("static-replicas.json")]
    [InlineData("tenants.json")]
    public void Example_LoadsAndValidates(string name)
    {
        Assert.NotEmpty(Load(name).Services);
    }

    [Fact]
    public void Tenants_TheDocumentedExampleKeysFindTheirTenants_WithTheirClassLimitsAndResidency()
    {
        var options = Load("tenants.json");
        var directory = new TenantDirectory(options);

        var chat = directory.Authenticate("Bearer sk-chat-example");
        var batch = directory.Authenticate("Bearer sk-batch-example");

        Assert.Equal(("chat", PriorityClass.Critical, Residency.Any), (chat?.Name, chat?.Priority, chat?.Residency));
        Assert.Equal(("batch", PriorityClass.Sheddable, Residency.OnPremOnly), (batch?.Name, batch?.Priority, batch?.Residency));
        Assert.Equal((600, 200_000, 16), (chat!.Options.Limits.RequestsPerMinute, chat.Options.Limits.TokensPerMinute, chat.Options.Limits.MaxConcurrent));
        Assert.Null(directory.Authenticate("Bearer sk-unknown"));
        Assert.False(options.Classes[PriorityClass.Sheddable].ScalesCloud);
    }

    [Fact]
    public void Tenants_TheCloudPoolsBackendKeyComesFromItsVariable()
    {
        var options = Load("tenants.json");
        var cloud = new GatewayTopology(options).Services[0].Pools.Single(p => p.Name == "cloud-elastic");

        var keys = BackendKeys.Read(options, name => name == "CLOUD_VLLM_API_KEY" ? "sk-cloud-example" : null);

        Assert.Equal(PoolLocation.Cloud, cloud.Location);
        Assert.Equal("Bearer sk-cloud-example", keys.AuthorizationFor(cloud));
        Assert.Throws<GatewayConfigurationException>(() => BackendKeys.Read(options, _ => null));
    }
}

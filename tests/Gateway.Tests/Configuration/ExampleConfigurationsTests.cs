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
    [InlineData("bridge.json")]
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

    [Fact]
    public void Bridge_ThePricedStandInProviderServesAMappedModelOverTlsWithAKeyMadeAtStart()
    {
        var options = Load("bridge.json");
        var pools = new GatewayTopology(options).Services[0].Pools;
        var bridge = pools.Single(p => p.IsProvider);
        var provider = bridge.Options.Provider!;

        Assert.Equal(["on-prem", "cloud-elastic", "provider-bridge"], pools.Select(p => p.Name));
        Assert.Equal(PoolRole.Bridge, bridge.Role);
        Assert.Equal(("https", 8443), (new Uri(provider.BaseUrl).Scheme, new Uri(provider.BaseUrl).Port));
        Assert.Equal("qwen-plus", provider.ModelMap["qwen"]);
        Assert.Equal((0.8, 2.0), (bridge.Options.Cost.PerMillionPromptTokens, bridge.Options.Cost.PerMillionCompletionTokens));
        Assert.Equal(4.0, pools.Single(p => p.Name == "cloud-elastic").Options.Cost.PerReplicaHour);
        Assert.Equal(20.0, options.Services[0].Budget!.MaxPerHour);

        // The stand-in is the simulator, serving the provider's model name over TLS with the certificate made at start.
        var arguments = string.Join(' ', provider.StandIn!.Arguments);
        Assert.Contains("--served-model-name qwen-plus", arguments, StringComparison.Ordinal);
        Assert.Contains("--ssl-certfile {certfile} --ssl-keyfile {keyfile}", arguments, StringComparison.Ordinal);
        Assert.Contains("--startup-duration 30", string.Join(' ', pools.Single(p => p.Name == "cloud-elastic").Options.Process!.Arguments), StringComparison.Ordinal);

        // No key in the file: one is made at start, the stand-in gets it and the forwarding sends it.
        Assert.Null(provider.ApiKeyEnv);
        Assert.Null(provider.ApiKeyFile);
        using var trust = Gateway.Providers.Hosted.ProviderTrust.Read(options);
        var made = trust.StandInFor(bridge.Options)!.ApiKey;
        Assert.NotNull(made);
        Assert.Equal("Bearer " + made, BackendKeys.Read(options, _ => null, trust).AuthorizationFor(bridge));
    }
}

using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

/// <summary>Provider pools, roles, bridge, cost and budget: each bad value is named by its key.</summary>
public sealed class ProviderOptionsValidatorTests
{
    private static GatewayOptions With(Action<PoolOptions> provider, Action<ServiceOptions>? service = null)
    {
        var pool = new PoolOptions
        {
            Name = "hosted",
            Priority = 2,
            Role = PoolRole.Bridge,
            Provider = new ProviderSourceOptions { BaseUrl = "https://dashscope.aliyuncs.com/compatible-mode/v1", ApiKeyEnv = "DASHSCOPE_API_KEY" },
            Cost = new CostOptions { PerMillionPromptTokens = 0.8, PerMillionCompletionTokens = 2 },
        };
        provider(pool);
        var options = new GatewayOptions
        {
            Services =
            [
                new ServiceOptions
                {
                    Name = "qwen-chat",
                    Models = ["qwen"],
                    Budget = new BudgetOptions { MaxPerHour = 20 },
                    Pools =
                    [
                        new PoolOptions { Name = "on-prem", Static = ["http://10.0.0.1:8000"], Cost = new CostOptions { PerReplicaHour = 0 } },
                        pool,
                    ],
                },
            ],
        };
        service?.Invoke(options.Services[0]);
        return options;
    }

    private static void AssertOnlyError(GatewayOptions options, string expected) =>
        Assert.Equal([expected], GatewayOptionsValidator.Check(options));

    [Fact]
    public void Check_ValidProviderPool_GivesNoErrors() => Assert.Empty(GatewayOptionsValidator.Check(With(_ => { })));

    [Fact]
    public void Check_PlainHttpBaseUrl_NamesIt() =>
        AssertOnlyError(With(p => p.Provider!.BaseUrl = "http://api.example.com/v1"),
            "Gateway:Services:0:Pools:1:Provider:BaseUrl: a provider is reached over https only, got 'http://api.example.com/v1'");

    [Fact]
    public void Check_ProviderWithoutRole_AsksWhichItIs() =>
        AssertOnlyError(With(p => p.Role = null),
            "Gateway:Services:0:Pools:1:Role: a Provider pool is a Bridge (while cloud GPUs boot) or an Overflow (a last tier); say which");

    [Fact]
    public void Check_BridgeRoleOnAGpuPool_NamesTheRole() =>
        AssertOnlyError(With(_ => { }, s => s.Pools[0].Role = PoolRole.Bridge),
            "Gateway:Services:0:Pools:0:Role: a Bridge pool takes its requests from a hosted API; give it a Provider source");

    [Fact]
    public void Check_TwoKeySources_NamesApiKeyFile() =>
        AssertOnlyError(With(p => p.Provider!.ApiKeyFile = "/run/secrets/key"),
            "Gateway:Services:0:Pools:1:Provider:ApiKeyFile: give the provider's key from a file or from ApiKeyEnv, not both");

    [Fact]
    public void Check_ProviderAlsoGivenAddresses_AsksForOneSource() =>
        AssertOnlyError(With(p => p.Static = ["http://10.0.0.9:8000"]),
            "Gateway:Services:0:Pools:1: give exactly one replica source: Static (addresses), Process (a command), Kubernetes (a service's pods) or Provider (a hosted API)");

    [Fact]
    public void Check_ProviderOnPrem_NamesLocation() =>
        AssertOnlyError(With(p => p.Location = PoolLocation.OnPrem),
            "Gateway:Services:0:Pools:1:Location: a hosted API is not on-prem; leave Location out or say Cloud");

    [Fact]
    public void Check_ProviderPricedPerReplicaHour_NamesTheKey() =>
        AssertOnlyError(With(p => p.Cost.PerReplicaHour = 3),
            "Gateway:Services:0:Pools:1:Cost:PerReplicaHour: a Provider pool is priced per token (PerMillionPromptTokens, PerMillionCompletionTokens)");

    [Fact]
    public void Check_NegativePrice_NamesTheKey() =>
        AssertOnlyError(With(p => p.Cost.PerMillionCompletionTokens = -1),
            "Gateway:Services:0:Pools:1:Cost:PerMillionCompletionTokens: must be 0 or a positive amount, got -1");

    [Fact]
    public void Check_ZeroConcurrency_NamesMaxConcurrency() =>
        AssertOnlyError(With(p => p.Provider!.MaxConcurrency = 0), "Gateway:Services:0:Pools:1:Provider:MaxConcurrency: must be at least 1, got 0");

    [Fact]
    public void Check_ModelMappedToAQuotedName_NamesTheEntry() =>
        AssertOnlyError(With(p => p.Provider!.ModelMap["qwen"] = "qwen\"plus"),
            "Gateway:Services:0:Pools:1:Provider:ModelMap:qwen: must be a model name without quotes, backslashes or control characters, got 'qwen\"plus'");

    [Fact]
    public void Check_NegativeBridgeWait_NamesMaxQueueWaitMs() =>
        AssertOnlyError(With(p => p.Bridge.MaxQueueWaitMs = -1), "Gateway:Services:0:Pools:1:Bridge:MaxQueueWaitMs: must be 0 to 86400000, got -1");

    [Fact]
    public void Check_StandInOffLoopback_NamesStandIn() =>
        AssertOnlyError(With(p => p.Provider!.StandIn = new StandInOptions { Command = "dotnet" }),
            "Gateway:Services:0:Pools:1:Provider:StandIn: a stand-in runs on this machine; BaseUrl must name a loopback host, got 'dashscope.aliyuncs.com'");

    [Fact]
    public void Check_ScaledProvider_NamesScaling() =>
        AssertOnlyError(With(p => p.Scaling = new ScalingOptions { MinReplicas = 0, MaxReplicas = 2 }),
            "Gateway:Services:0:Pools:1:Scaling: a Provider pool is not scaled; its capacity is Provider:MaxConcurrency");

    [Fact]
    public void Check_ZeroBudget_NamesMaxPerHour() =>
        AssertOnlyError(With(_ => { }, s => s.Budget!.MaxPerHour = 0), "Gateway:Services:0:Budget:MaxPerHour: must be a positive amount, got 0");
    /// <summary>A service with an on-prem pool and a bridge at <paramref name="baseUrl"/> whose API a stand-in serves.</summary>
    private static GatewayOptions WithStandInAt(string baseUrl) =>
        TestTopology.Options(TestTopology.Service(
            TestTopology.Pool("on-prem", 0, 2, "http://10.0.0.1:8000"),
            new PoolOptions
            {
                Name = "bridge",
                Priority = 1,
                Role = PoolRole.Bridge,
                Provider = new ProviderSourceOptions
                {
                    BaseUrl = baseUrl,
                    StandIn = new StandInOptions { Command = "dotnet", Arguments = ["{appdir}/Gateway.Simulator.dll", "--port", "{port}"] },
                },
            }));

    [Fact]
    public void Check_StandInOnALoopbackPortOfItsOwn_GivesNoErrors() =>
        Assert.Empty(GatewayOptionsValidator.Check(WithStandInAt("https://127.0.0.1:8443/v1")));

    [Theory]
    [InlineData("https://127.0.0.1/v1")]
    [InlineData("https://127.0.0.1:443/v1")]
    public void Check_StandInWithoutAPort_NamesBaseUrl(string baseUrl) =>
        Assert.Equal(
            ["Gateway:Services:0:Pools:1:Provider:BaseUrl: a stand-in listens on BaseUrl's port; give one other than 443, e.g. 'https://127.0.0.1:8443/v1'"],
            GatewayOptionsValidator.Check(WithStandInAt(baseUrl)));
}

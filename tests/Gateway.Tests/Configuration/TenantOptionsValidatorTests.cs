using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class TenantOptionsValidatorTests
{
    private static readonly string KeyHash = new('a', 64);

    private static GatewayOptions WithTenants(params TenantOptions[] tenants) => new()
    {
        Auth = new AuthOptions { Mode = AuthMode.ApiKeys },
        Tenants = [.. tenants],
        Services = [new ServiceOptions { Name = "qwen-chat", Pools = [new PoolOptions { Name = "on-prem", Static = ["http://127.0.0.1:8000"] }] }],
    };

    private static void AssertOnlyError(GatewayOptions options, string expected) =>
        Assert.Equal([expected], GatewayOptionsValidator.Check(options));

    [Fact]
    public void Check_TwoTenantsWithKeysLimitsAndAService_GivesNoErrors()
    {
        Assert.Empty(GatewayOptionsValidator.Check(WithTenants(
            new TenantOptions { Name = "chat", ApiKeyHashes = [KeyHash], Priority = PriorityClass.Critical, Services = ["qwen-chat"] },
            new TenantOptions { Name = "batch", ApiKeyHashes = [new string('b', 64)], Limits = new TenantLimitsOptions { RequestsPerMinute = 60, TokensPerMinute = 1000, MaxConcurrent = 4 } })));
    }

    [Fact]
    public void Check_KeyHashNotSha256Hex_NamesItsPathWithoutEchoingIt()
    {
        AssertOnlyError(
            WithTenants(new TenantOptions { Name = "chat", ApiKeyHashes = ["sk-live-secret"] }),
            "Gateway:Tenants:0:ApiKeyHashes:0: must be the lower-case hex SHA-256 of a key (64 characters; `hash-key` prints it), got 14 characters");
    }

    [Fact]
    public void Check_SameKeyForTwoTenants_NamesTheSecond()
    {
        AssertOnlyError(
            WithTenants(new TenantOptions { Name = "chat", ApiKeyHashes = [KeyHash] }, new TenantOptions { Name = "batch", ApiKeyHashes = [KeyHash] }),
            "Gateway:Tenants:1:ApiKeyHashes:0: the same key is already Gateway:Tenants:0's; a key names one tenant");
    }

    [Fact]
    public void Check_TenantNamedAnonymous_NamesTheName()
    {
        AssertOnlyError(
            WithTenants(new TenantOptions { Name = "anonymous", ApiKeyHashes = [KeyHash] }),
            "Gateway:Tenants:0:Name: 'anonymous' is the tenant of callers without a key; choose another name");
    }

    [Fact]
    public void Check_ZeroLimitAndUnknownService_NameTheirKeys()
    {
        var options = WithTenants(new TenantOptions
        {
            Name = "chat", ApiKeyHashes = [KeyHash], Limits = new TenantLimitsOptions { TokensPerMinute = 0 }, Services = ["llama"],
        });

        Assert.Equal(
            [
                "Gateway:Tenants:0:Limits:TokensPerMinute: must be at least 1 (leave it out for no limit), got 0",
                "Gateway:Tenants:0:Services:0: no service is named 'llama'",
            ],
            GatewayOptionsValidator.Check(options));
    }

    [Fact]
    public void Check_ApiKeysWithoutAnyKey_NamesAuthMode()
    {
        AssertOnlyError(
            WithTenants(new TenantOptions { Name = "chat" }),
            "Gateway:Auth:Mode: ApiKeys needs at least one tenant with ApiKeyHashes (Gateway:Tenants:N:ApiKeyHashes), else nobody can call");
    }

    [Fact]
    public void Check_BackendKeyFromFileAndEnvironment_NamesBackendKeyFile()
    {
        var options = WithTenants(new TenantOptions { Name = "chat", ApiKeyHashes = [KeyHash] });
        options.Services[0].Pools[0].BackendKeyEnv = "VLLM_API_KEY";
        options.Services[0].Pools[0].BackendKeyFile = "/etc/vllm/key";

        AssertOnlyError(options, "Gateway:Services:0:Pools:0:BackendKeyFile: give the backend key from a file or from BackendKeyEnv, not both");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Check_SlotShareOutOfRange_NamesItsKey(double share)
    {
        var options = WithTenants(new TenantOptions { Name = "chat", ApiKeyHashes = [KeyHash] });
        options.Classes[PriorityClass.Sheddable] = new PriorityClassOptions { MaxSlotShare = share };

        AssertOnlyError(options, string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Gateway:Classes:Sheddable:MaxSlotShare: must be above 0 and at most 1, got {share}"));
    }

    [Fact]
    public void Check_LowerClassFillsFurtherThanAHigherOne_NamesTheLowerClassAndTheHigherShare()
    {
        var options = WithTenants(new TenantOptions { Name = "chat", ApiKeyHashes = [KeyHash] });
        options.Classes[PriorityClass.Standard] = new PriorityClassOptions { MaxSlotShare = 0.5 };
        options.Classes[PriorityClass.Sheddable] = new PriorityClassOptions { MaxSlotShare = 0.75 };

        AssertOnlyError(options,
            "Gateway:Classes:Sheddable:MaxSlotShare: must be at most Standard's (0.5), got 0.75: a class may not fill a replica further than a more important one");
    }

    [Fact]
    public void Check_SheddableHalfTheSlots_GivesNoErrors()
    {
        var options = WithTenants(new TenantOptions { Name = "chat", ApiKeyHashes = [KeyHash] });
        options.Classes[PriorityClass.Sheddable] = new PriorityClassOptions { MaxSlotShare = 0.5, ScalesCloud = false };

        Assert.Empty(GatewayOptionsValidator.Check(options));
    }
}

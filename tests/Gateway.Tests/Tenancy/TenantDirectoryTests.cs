using Gateway.Configuration;
using Gateway.Model;
using Gateway.Tenancy;
using Microsoft.Extensions.Primitives;

namespace Gateway.Tests.Tenancy;

public sealed class TenantDirectoryTests
{
    private static TenantDirectory Directory(AuthMode mode) => new(new GatewayOptions
    {
        Auth = new AuthOptions { Mode = mode },
        Tenants =
        [
            new TenantOptions { Name = "chat", ApiKeyHashes = [TenantDirectory.Hash("sk-chat")] },
            new TenantOptions { Name = "batch", ApiKeyHashes = [TenantDirectory.Hash("sk-batch-1"), TenantDirectory.Hash("sk-batch-2")] },
        ],
    });

    [Fact]
    public void Hash_IsLowerCaseHexSha256()
    {
        // sha256("abc"), the FIPS 180-2 example.
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", TenantDirectory.Hash("abc"));
    }

    [Theory]
    [InlineData("Bearer sk-chat", "chat")]
    [InlineData("bearer  sk-batch-2 ", "batch")]
    [InlineData("Bearer sk-batch-1", "batch")]
    public void Authenticate_KnownKey_FindsItsTenant(string authorization, string tenant)
    {
        Assert.Equal(tenant, Directory(AuthMode.ApiKeys).Authenticate(authorization)?.Name);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Bearer sk-unknown")]
    [InlineData("Basic c2stY2hhdA==")]
    [InlineData("sk-chat")]
    public void Authenticate_MissingOrUnknownKey_FindsNobody(string? authorization)
    {
        Assert.Null(Directory(AuthMode.ApiKeys).Authenticate(authorization is null ? StringValues.Empty : new StringValues(authorization)));
    }

    [Fact]
    public void Authenticate_TwoAuthorizationHeaders_FindsNobody()
    {
        Assert.Null(Directory(AuthMode.ApiKeys).Authenticate(new StringValues(["Bearer sk-chat", "Bearer sk-batch-1"])));
    }

    [Fact]
    public void Authenticate_NoKeysAsked_EveryoneIsAnonymous()
    {
        Assert.Same(Tenant.Anonymous, Directory(AuthMode.None).Authenticate(StringValues.Empty));
        Assert.Same(Tenant.Anonymous, Directory(AuthMode.None).Authenticate("Bearer sk-chat"));
    }
}

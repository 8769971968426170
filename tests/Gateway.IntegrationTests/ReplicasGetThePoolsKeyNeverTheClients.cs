using Gateway.Configuration;
using Gateway.IntegrationTests.Support;
using Gateway.Tenancy;
using OpenAI.Chat;

namespace Gateway.IntegrationTests;

/// <summary>
/// A pool whose replicas ask for a key (vLLM's <c>--api-key</c>) gets the pool's key, read from a file at start, as
/// <c>Authorization: Bearer</c>; the client's own key, checked by the gateway, never reaches a replica, and the pool's
/// key shows nowhere on the admin listener.
/// </summary>
public sealed class ReplicasGetThePoolsKeyNeverTheClients : IAsyncLifetime
{
    private const string ClientKey = "sk-chat-example";
    private const string BackendKey = "sk-vllm-backend-7f3a";

    private readonly string _folder = Directory.CreateTempSubdirectory("backend-key-").FullName;
    private RecordingReplica _replica = null!;
    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync()
    {
        var keyFile = Path.Combine(_folder, "vllm-key");
        await File.WriteAllTextAsync(keyFile, BackendKey + "\n");
        _replica = await RecordingReplica.StartAsync();
        _gateway = await GatewayFixture.StartAsync([], _ =>
        {
            var pool = GatewayFixture.Pool("on-prem", 0, 4, _replica.Address);
            pool.BackendKeyFile = keyFile;
            return new GatewayOptions
            {
                Auth = new AuthOptions { Mode = AuthMode.ApiKeys },
                Tenants = [new TenantOptions { Name = "chat", ApiKeyHashes = [TenantDirectory.Hash(ClientKey)] }],
                Services = [GatewayFixture.QwenChat(pool)],
            };
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _replica.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task ClientWithItsKey_ReplicaGetsThePoolsKeyInstead()
    {
        using var http = _gateway.CreatePublicClient();
        var chat = _gateway.CreateChatClient(http, ClientKey);

        ChatCompletion answer = await chat.CompleteChatAsync([new UserChatMessage("Hi")]);

        Assert.Equal("Hi", answer.Content[0].Text);
        var received = Assert.Single(_replica.Requests);
        Assert.Equal("Bearer " + BackendKey, received["Authorization"]);
        Assert.DoesNotContain(received, h => h.Value.Contains(ClientKey, StringComparison.Ordinal));
        Assert.DoesNotContain(BackendKey, await _gateway.Admin.GetStringAsync("admin/status"), StringComparison.Ordinal);
        Assert.DoesNotContain(BackendKey, await _gateway.Admin.GetStringAsync("metrics"), StringComparison.Ordinal);
    }
}

using Gateway.Configuration;
using Gateway.Model;

namespace Gateway.Tests.Model;

public sealed class GatewayTopologyTests
{
    private static GatewayTopology Topology(string domain = "example.com")
    {
        var chat = TestTopology.Service(TestTopology.Pool("on-prem", 0, 4, "http://10.0.0.1:8000"));
        chat.Hosts = ["chat.internal"];
        chat.Models = ["qwen2.5-7b", "qwen2.5-7b-instruct"];
        var llama = new ServiceOptions
        {
            Name = "llama",
            Namespace = "research",
            Models = ["llama-3-8b"],
            Pools = [TestTopology.Pool("on-prem", 0, 4, "http://10.0.0.2:8000")],
        };
        var options = TestTopology.Options(chat, llama);
        options.Domain = domain;
        return TestTopology.Build(options);
    }

    [Fact]
    public void FindByHost_KServeHostName_FindsTheService()
    {
        var topology = Topology();

        Assert.Same(topology.Services[0], topology.FindByHost("qwen-chat-default.example.com"));
        Assert.Same(topology.Services[1], topology.FindByHost("llama-research.example.com"));
    }

    [Fact]
    public void FindByHost_DifferentCase_FindsTheService()
    {
        var topology = Topology();

        Assert.Same(topology.Services[0], topology.FindByHost("QWEN-Chat-Default.Example.COM"));
    }

    [Fact]
    public void FindByHost_ExtraHost_FindsTheService()
    {
        var topology = Topology();

        Assert.Same(topology.Services[0], topology.FindByHost("chat.internal"));
        Assert.Same(topology.Services[0], topology.FindByHost("Chat.Internal"));
    }

    [Fact]
    public void FindByHost_ConfiguredDomain_UsesThatDomainOnly()
    {
        var topology = Topology(domain: "models.corp");

        Assert.Same(topology.Services[0], topology.FindByHost("qwen-chat-default.models.corp"));
        Assert.Null(topology.FindByHost("qwen-chat-default.example.com"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("127.0.0.1")]
    [InlineData("qwen-chat.example.com")]
    [InlineData("qwen-chat-other.example.com")]
    [InlineData("qwen-chat-default.example.com.evil.net")]
    public void FindByHost_UnknownHost_ReturnsNull(string host)
    {
        Assert.Null(Topology().FindByHost(host));
    }

    [Fact]
    public void FindByModel_ServedModel_FindsTheService()
    {
        var topology = Topology();

        Assert.Same(topology.Services[0], topology.FindByModel("qwen2.5-7b"));
        Assert.Same(topology.Services[0], topology.FindByModel("qwen2.5-7b-instruct"));
        Assert.Same(topology.Services[1], topology.FindByModel("llama-3-8b"));
    }

    [Theory]
    [InlineData("gpt-4o")]
    [InlineData("")]
    [InlineData("QWEN2.5-7B")]
    public void FindByModel_UnknownModel_ReturnsNull(string model)
    {
        // Model names are matched exactly, as vLLM matches --served-model-name.
        Assert.Null(Topology().FindByModel(model));
    }

    [Fact]
    public void Constructor_PoolsOutOfOrder_OrdersThemByPriority()
    {
        var service = TestTopology.Service(
            TestTopology.Pool("cloud", 1, 2, "http://10.0.1.1:8000"),
            TestTopology.Pool("on-prem", 0, 4, "http://10.0.0.1:8000"));

        var pools = TestTopology.Build(TestTopology.Options(service)).Services[0].Pools;

        Assert.Equal(["on-prem", "cloud"], [pools[0].Name, pools[1].Name]);
        Assert.Equal([4, 2], [pools[0].CapacityPerReplica, pools[1].CapacityPerReplica]);
    }
}

using System.Text;
using Gateway.Providers;

namespace Gateway.Tests.Providers;

/// <summary>The webhook's body is a contract with the receiver: exact fields, in this order, nothing else.</summary>
public sealed class WebhookPoolScalerTests
{
    [Fact]
    public void Body_ScaleOut_HasServiceNamespacePoolCountsAndReason()
    {
        var pool = TestTopology.TwoTiers(2, 2).Cloud();

        var body = Encoding.UTF8.GetString(WebhookPoolScaler.Body(new ScaleRequest(pool, 2, 0, "demand 5"), replica: null));

        Assert.Equal("""{"service":"qwen-chat","namespace":"default","pool":"cloud","desiredReplicas":2,"currentReplicas":0,"reason":"demand 5"}""", body);
    }

    [Fact]
    public void Body_ScaleIn_NamesTheDrainedReplica()
    {
        var pool = TestTopology.TwoTiers(2, 2).Cloud();

        var body = Encoding.UTF8.GetString(WebhookPoolScaler.Body(new ScaleRequest(pool, 1, 2, "demand 0; cloud-2 drained"), "http://10.0.1.2:8000"));

        Assert.Equal(
            """{"service":"qwen-chat","namespace":"default","pool":"cloud","desiredReplicas":1,"currentReplicas":2,"reason":"demand 0; cloud-2 drained","replica":"http://10.0.1.2:8000"}""",
            body);
    }

    [Fact]
    public void ClientName_FromOptionsAndFromThePool_AreTheSame()
    {
        var options = TestTopology.Options(TestTopology.Service(TestTopology.Pool("on-prem", 0, 2, "http://10.0.0.1:8000"), TestTopology.Pool("cloud", 1, 2, "http://10.0.1.1:8000")));
        var pool = TestTopology.Build(options).Services[0].Cloud();

        Assert.Equal("scaling-webhook:default/qwen-chat/cloud", WebhookPoolScaler.ClientName(pool));
        Assert.Equal(WebhookPoolScaler.ClientName(pool), WebhookPoolScaler.ClientName(options.Services[0], options.Services[0].Pools[1]));
    }
}

using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class GatewayOptionsValidatorTests
{
    /// <summary>A complete, valid configuration: two services, an on-prem and a cloud pool.</summary>
    private static GatewayOptions Valid() => new()
    {
        PublicUrl = "http://127.0.0.1:8080",
        AdminUrl = "http://127.0.0.1:9090",
        Domain = "example.com",
        Services =
        [
            new ServiceOptions
            {
                Name = "qwen-chat",
                Namespace = "default",
                Hosts = ["chat.internal"],
                Models = ["qwen2.5-7b"],
                Pools =
                [
                    new PoolOptions { Name = "on-prem", Priority = 0, CapacityPerReplica = 4, Static = ["http://10.0.0.1:8000"] },
                    new PoolOptions
                    {
                        Name = "cloud",
                        Priority = 1,
                        CapacityPerReplica = 4,
                        Process = new ProcessSourceOptions { Command = "vllm", Arguments = ["serve", "--port", "{port}"] },
                    },
                ],
            },
            new ServiceOptions
            {
                Name = "llama",
                Models = ["llama-3-8b"],
                Pools = [new PoolOptions { Name = "on-prem", Static = ["http://10.0.0.2:8000"] }],
            },
        ],
    };

    private static void AssertOnlyError(GatewayOptions options, string expected) =>
        Assert.Equal([expected], GatewayOptionsValidator.Check(options));

    [Fact]
    public void Check_ValidConfiguration_GivesNoErrors()
    {
        Assert.Empty(GatewayOptionsValidator.Check(Valid()));
    }

    [Fact]
    public void Check_PublicUrlNotAUrl_NamesPublicUrl()
    {
        var options = Valid();
        options.PublicUrl = "localhost:8080";

        AssertOnlyError(options, "Gateway:PublicUrl: must be an absolute http:// or https:// URL, got 'localhost:8080'");
    }

    [Fact]
    public void Check_PublicUrlHttps_NamesPublicUrl()
    {
        var options = Valid();
        options.PublicUrl = "https://127.0.0.1:8443";

        AssertOnlyError(options, "Gateway:PublicUrl: the gateway listens on plain http (put TLS in front of it), got 'https://127.0.0.1:8443'");
    }

    [Fact]
    public void Check_AdminUrlWithHostName_NamesAdminUrl()
    {
        var options = Valid();
        options.AdminUrl = "http://gateway.local:9090";

        AssertOnlyError(options, "Gateway:AdminUrl: the host must be an IP address (0.0.0.0 for all) or localhost, got 'gateway.local'");
    }

    [Fact]
    public void Check_AdminUrlEmpty_NamesAdminUrl()
    {
        var options = Valid();
        options.AdminUrl = "";

        AssertOnlyError(options, "Gateway:AdminUrl: must be an absolute http:// or https:// URL, got ''");
    }

    [Fact]
    public void Check_SamePortForPublicAndAdmin_NamesAdminUrl()
    {
        var options = Valid();
        options.PublicUrl = "http://0.0.0.0:8080";
        options.AdminUrl = "http://127.0.0.1:8080";

        AssertOnlyError(options, "Gateway:AdminUrl: must use another port than Gateway:PublicUrl (8080); the admin listener is never public");
    }

    [Fact]
    public void Check_BothListenersOnPortZero_GivesNoErrors()
    {
        // Port 0 asks the system for a free port, so the two listeners still differ (how tests run the gateway).
        var options = Valid();
        options.PublicUrl = "http://127.0.0.1:0";
        options.AdminUrl = "http://127.0.0.1:0";

        Assert.Empty(GatewayOptionsValidator.Check(options));
    }

    [Fact]
    public void Check_NoServices_NamesServices()
    {
        var options = Valid();
        options.Services = [];

        AssertOnlyError(options, "Gateway:Services: at least one service is needed");
    }

    [Theory]
    [InlineData("Llama")]
    [InlineData("llama_3")]
    [InlineData("-llama")]
    [InlineData("llama-")]
    [InlineData("")]
    public void Check_ServiceNameNotADnsLabel_NamesTheServiceName(string name)
    {
        var options = Valid();
        options.Services[1].Name = name;

        AssertOnlyError(options, $"Gateway:Services:1:Name: must be a DNS label (lower-case letters, digits, '-'), got '{name}'");
    }

    [Fact]
    public void Check_ServiceNameOf64Characters_NamesTheServiceName()
    {
        var options = Valid();
        var name = new string('a', 64);
        options.Services[1].Name = name;

        AssertOnlyError(options, $"Gateway:Services:1:Name: must be a DNS label (lower-case letters, digits, '-'), got '{name}'");
    }

    [Fact]
    public void Check_ExtraHostUsedByTwoServices_NamesTheSecondHostAndTheFirst()
    {
        var options = Valid();
        options.Services[1].Hosts = ["CHAT.internal"];

        AssertOnlyError(options, "Gateway:Services:1:Hosts:0: host 'CHAT.internal' is already used by Gateway:Services:0:Hosts:0");
    }

    [Fact]
    public void Check_ExtraHostEqualsAnotherServicesDefaultHost_NamesTheHost()
    {
        var options = Valid();
        options.Services[1].Hosts = ["qwen-chat-default.example.com"];

        AssertOnlyError(options, "Gateway:Services:1:Hosts:0: host 'qwen-chat-default.example.com' is already used by Gateway:Services:0:Name");
    }

    [Fact]
    public void Check_TwoServicesWhoseDefaultHostsCollide_NamesTheSecondServiceName()
    {
        // "a" in "b-c" and "a-b" in "c" both answer to a-b-c.example.com.
        var options = Valid();
        options.Services[0].Name = "a";
        options.Services[0].Namespace = "b-c";
        options.Services[1].Name = "a-b";
        options.Services[1].Namespace = "c";

        AssertOnlyError(options, "Gateway:Services:1:Name: host 'a-b-c.example.com' is already used by Gateway:Services:0:Name");
    }

    [Fact]
    public void Check_HostWithPort_NamesTheHost()
    {
        var options = Valid();
        options.Services[0].Hosts = ["chat.internal:8080"];

        AssertOnlyError(options, "Gateway:Services:0:Hosts:0: must be a host name without port or scheme, got 'chat.internal:8080'");
    }

    [Fact]
    public void Check_ModelServedByTwoServices_NamesTheSecondModelAndTheFirst()
    {
        var options = Valid();
        options.Services[1].Models = ["llama-3-8b", "qwen2.5-7b"];

        AssertOnlyError(options, "Gateway:Services:1:Models:1: model 'qwen2.5-7b' is already served by Gateway:Services:0:Models:0");
    }

    [Fact]
    public void Check_ModelsDifferingOnlyInCase_GivesNoErrors()
    {
        // Model names are case-sensitive, as in vLLM's --served-model-name.
        var options = Valid();
        options.Services[1].Models = ["QWEN2.5-7B"];

        Assert.Empty(GatewayOptionsValidator.Check(options));
    }

    [Fact]
    public void Check_EmptyModel_NamesTheModel()
    {
        var options = Valid();
        options.Services[0].Models = ["qwen2.5-7b", " "];

        AssertOnlyError(options, "Gateway:Services:0:Models:1: must not be empty");
    }

    [Fact]
    public void Check_BalancingOutOfRange_NamesBalancing()
    {
        var options = Valid();
        options.Services[0].Balancing = (BalancingMode)7;

        AssertOnlyError(options, "Gateway:Services:0:Balancing: must be SpillOver or RoundRobin");
    }

    [Fact]
    public void Check_PoolWithStaticAndProcess_NamesThePool()
    {
        var options = Valid();
        options.Services[0].Pools[1].Static = ["http://10.0.1.1:8000"];

        AssertOnlyError(options, "Gateway:Services:0:Pools:1: give exactly one replica source: Static (addresses), Process (a command), Kubernetes (a service's pods) or Provider (a hosted API)");
    }

    [Fact]
    public void Check_PoolWithNeitherStaticNorProcess_NamesThePool()
    {
        var options = Valid();
        options.Services[0].Pools[0].Static = [];

        AssertOnlyError(options, "Gateway:Services:0:Pools:0: give exactly one replica source: Static (addresses), Process (a command), Kubernetes (a service's pods) or Provider (a hosted API)");
    }

    [Fact]
    public void Check_PoolWithProcessAndKubernetes_NamesThePool()
    {
        var options = Valid();
        options.Services[0].Pools[1].Kubernetes = new KubernetesSourceOptions { ServiceName = "qwen", Port = "http", PoolLabelValue = "np-cloud" };

        AssertOnlyError(options, "Gateway:Services:0:Pools:1: give exactly one replica source: Static (addresses), Process (a command), Kubernetes (a service's pods) or Provider (a hosted API)");
    }

    [Fact]
    public void Check_KubernetesSourceWithoutServiceOrLabelValue_NamesTheKeys()
    {
        var options = Valid();
        options.Services[0].Pools[1].Process = null;
        options.Services[0].Pools[1].Kubernetes = new KubernetesSourceOptions { Port = "8000", ResyncSeconds = 0 };

        var errors = GatewayOptionsValidator.Check(options);

        Assert.Equal(
            [
                "Gateway:Services:0:Pools:1:Kubernetes:ServiceName: must name the Kubernetes service whose pods are the replicas",
                "Gateway:Services:0:Pools:1:Kubernetes:PoolLabelValue: must give the value of alibabacloud.com/nodepool-id that puts a pod in this pool",
                "Gateway:Services:0:Pools:1:Kubernetes:ResyncSeconds: must be a positive number of seconds, at most 86400, got 0",
            ],
            errors);
    }

    [Fact]
    public void Check_KubernetesSourceComplete_IsValid()
    {
        var options = Valid();
        options.Services[0].Pools[1].Process = null;
        options.Services[0].Pools[1].Kubernetes = new KubernetesSourceOptions { ServiceName = "qwen", Port = "http", PoolLabelValue = "np-cloud" };

        Assert.Empty(GatewayOptionsValidator.Check(options));
    }

    [Fact]
    public void Check_StaticAddressWithPath_NamesTheAddress()
    {
        var options = Valid();
        options.Services[0].Pools[0].Static = ["http://10.0.0.1:8000", "http://10.0.0.2:8000/v1"];

        AssertOnlyError(options, "Gateway:Services:0:Pools:0:Static:1: must be a server root such as http://10.0.0.5:8000, without a path, got 'http://10.0.0.2:8000/v1'");
    }

    [Fact]
    public void Check_StaticAddressNotAUrl_NamesTheAddress()
    {
        var options = Valid();
        options.Services[0].Pools[0].Static = ["10.0.0.1:8000"];

        AssertOnlyError(options, "Gateway:Services:0:Pools:0:Static:0: must be an absolute http:// or https:// URL, got '10.0.0.1:8000'");
    }

    [Fact]
    public void Check_ProcessArgumentsWithoutPort_NamesArguments()
    {
        var options = Valid();
        options.Services[0].Pools[1].Process!.Arguments = ["serve", "--port", "8000"];

        AssertOnlyError(options, "Gateway:Services:0:Pools:1:Process:Arguments: must contain {port}, where the replica's port goes");
    }

    [Theory]
    [InlineData(-1, 0, "Gateway:Services:0:Pools:1:Process:FirstPort: must be a port from 1 to 65535 (or 0 with LastPort 0 for any free port), got -1")]
    [InlineData(0, 20010, "Gateway:Services:0:Pools:1:Process:FirstPort: must be a port from 1 to 65535 (or 0 with LastPort 0 for any free port), got 0")]
    [InlineData(20010, 20000, "Gateway:Services:0:Pools:1:Process:LastPort: must be from FirstPort (20010) to 65535, got 20000")]
    [InlineData(65535, 65536, "Gateway:Services:0:Pools:1:Process:LastPort: must be from FirstPort (65535) to 65535, got 65536")]
    [InlineData(20000, 20000, "Gateway:Services:0:Pools:1:Process:LastPort: the range 20000-20000 has fewer ports than the 2 replicas the pool may run")]
    public void Check_ProcessPortRangeWrong_NamesTheKey(int first, int last, string error)
    {
        var options = Valid();
        var process = options.Services[0].Pools[1].Process!;
        (process.Replicas, process.FirstPort, process.LastPort) = (2, first, last);

        AssertOnlyError(options, error);
    }

    [Fact]
    public void Check_ProcessPortRangeWithRoomForEveryReplica_GivesNoErrors()
    {
        var options = Valid();
        var process = options.Services[0].Pools[1].Process!;
        (process.Replicas, process.FirstPort, process.LastPort) = (2, 20000, 20001);

        Assert.Empty(GatewayOptionsValidator.Check(options));
    }

    [Fact]
    public void Check_ProcessWithoutCommand_NamesCommand()
    {
        var options = Valid();
        options.Services[0].Pools[1].Process!.Command = "";

        AssertOnlyError(options, "Gateway:Services:0:Pools:1:Process:Command: must name a program to run");
    }

    [Fact]
    public void Check_CapacityPerReplicaZero_NamesCapacityPerReplica()
    {
        var options = Valid();
        options.Services[0].Pools[1].CapacityPerReplica = 0;

        AssertOnlyError(options, "Gateway:Services:0:Pools:1:CapacityPerReplica: must be at least 1, got 0");
    }

    [Fact]
    public void Check_PoolNameTwiceInAService_NamesTheSecondPool()
    {
        var options = Valid();
        options.Services[0].Pools[1].Name = "on-prem";

        AssertOnlyError(options, "Gateway:Services:0:Pools:1:Name: pool 'on-prem' appears twice in the service");
    }

    [Fact]
    public void Check_NegativePriority_NamesPriority()
    {
        var options = Valid();
        options.Services[0].Pools[0].Priority = -1;

        AssertOnlyError(options, "Gateway:Services:0:Pools:0:Priority: must be 0 or more, got -1");
    }

    [Fact]
    public void Check_NegativeMaxWaiting_NamesMaxWaiting()
    {
        var options = Valid();
        options.Services[0].Queue.MaxWaiting = -1;

        AssertOnlyError(options, "Gateway:Services:0:Queue:MaxWaiting: must be 0 or more, got -1");
    }

    [Fact]
    public void Check_MaxWaitingZero_GivesNoErrors()
    {
        // Zero is a valid choice: no queue, turn away at once when full.
        var options = Valid();
        options.Services[0].Queue.MaxWaiting = 0;

        Assert.Empty(GatewayOptionsValidator.Check(options));
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(-1.5, "-1.5")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "Infinity")]
    public void Check_MaxWaitSecondsNotPositive_NamesMaxWaitSeconds(double seconds, string shown)
    {
        var options = Valid();
        options.Services[1].Queue.MaxWaitSeconds = seconds;

        AssertOnlyError(options, $"Gateway:Services:1:Queue:MaxWaitSeconds: must be a positive number of seconds, got {shown}");
    }

    [Fact]
    public void Check_MaxWaitSecondsOverADay_NamesMaxWaitSeconds()
    {
        // Beyond about 49 days no timer can run; the queue would then fail every request that waits.
        var options = Valid();
        options.Services[0].Queue.MaxWaitSeconds = 5_000_000;

        AssertOnlyError(options, "Gateway:Services:0:Queue:MaxWaitSeconds: must be at most 86400 (a day), got 5000000");
    }

    [Fact]
    public void Check_MaxWaitSecondsOfADay_GivesNoErrors()
    {
        var options = Valid();
        options.Services[0].Queue.MaxWaitSeconds = 86_400;

        Assert.Empty(GatewayOptionsValidator.Check(options));
    }

    [Fact]
    public void Check_RetryAfterSecondsZero_NamesRetryAfterSeconds()
    {
        var options = Valid();
        options.Services[0].Queue.RetryAfterSeconds = 0;

        AssertOnlyError(options, "Gateway:Services:0:Queue:RetryAfterSeconds: must be at least 1, got 0");
    }

    [Fact]
    public void Check_MaxAttemptsSix_NamesMaxAttempts()
    {
        var options = Valid();
        options.Forwarding.MaxAttempts = 6;

        AssertOnlyError(options, "Gateway:Forwarding:MaxAttempts: must be between 1 and 5, got 6");
    }

    [Fact]
    public void Check_MaxAnswerBytesBelowTheStreamLookAhead_NamesMaxAnswerBytes()
    {
        var options = Valid();
        options.Forwarding.MaxAnswerBytes = 1000;

        AssertOnlyError(options, "Gateway:Forwarding:MaxAnswerBytes: must be at least 65536 (64 KiB), got 1000");
    }

    [Fact]
    public void Check_SmallBodyLimit_NamesMaxRequestBodyBytes()
    {
        var options = Valid();
        options.MaxRequestBodyBytes = 1023;

        AssertOnlyError(options, "Gateway:MaxRequestBodyBytes: must be at least 1024, got 1023");
    }

    [Fact]
    public void Check_ZeroProbeInterval_NamesTheHealthKey()
    {
        var options = Valid();
        options.Services[0].Pools[1].Health.ProbeIntervalSeconds = 0;

        AssertOnlyError(options, "Gateway:Services:0:Pools:1:Health:ProbeIntervalSeconds: must be a positive number of seconds, got 0");
    }

    [Fact]
    public void Check_ProbeTimeoutLongerThanADay_NamesTheHealthKey()
    {
        var options = Valid();
        options.Services[1].Pools[0].Health.ProbeTimeoutSeconds = 86401;

        AssertOnlyError(options, "Gateway:Services:1:Pools:0:Health:ProbeTimeoutSeconds: must be at most 86400 (a day), got 86401");
    }

    [Fact]
    public void Check_NoFailuresNeededToTakeAReplicaOut_NamesUnhealthyAfterFailures()
    {
        var options = Valid();
        options.Services[0].Pools[0].Health.UnhealthyAfterFailures = 0;

        AssertOnlyError(options, "Gateway:Services:0:Pools:0:Health:UnhealthyAfterFailures: must be between 1 and 100, got 0");
    }

    [Fact]
    public void Check_MaxBackoffBelowTheProbeInterval_NamesMaxBackoffSeconds()
    {
        var options = Valid();
        options.Services[0].Pools[0].Health.ProbeIntervalSeconds = 5;
        options.Services[0].Pools[0].Health.MaxBackoffSeconds = 2.5;

        AssertOnlyError(options, "Gateway:Services:0:Pools:0:Health:MaxBackoffSeconds: must be at least ProbeIntervalSeconds (5), got 2.5");
    }

    [Fact]
    public void Check_SeveralProblems_ReportsEachOnce()
    {
        var options = Valid();
        options.PublicUrl = "nonsense";
        options.Services[0].Pools[0].CapacityPerReplica = 0;
        options.Services[1].Queue.MaxWaiting = -3;

        Assert.Equal(
            [
                "Gateway:PublicUrl: must be an absolute http:// or https:// URL, got 'nonsense'",
                "Gateway:Services:0:Pools:0:CapacityPerReplica: must be at least 1, got 0",
                "Gateway:Services:1:Queue:MaxWaiting: must be 0 or more, got -3",
            ],
            GatewayOptionsValidator.Check(options));
    }
}

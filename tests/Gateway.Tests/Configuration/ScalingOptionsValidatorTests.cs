using Gateway.Configuration;
using Gateway.Providers;

namespace Gateway.Tests.Configuration;

public sealed class ScalingOptionsValidatorTests
{
    private const string Cloud = "Gateway:Services:0:Pools:1";

    /// <summary>A Process cloud pool (it scales itself) with <paramref name="scaling"/>, or the pool <paramref name="cloud"/> gives.</summary>
    private static GatewayOptions WithCloudScaling(ScalingOptions scaling, double targetUtilization = 0.8, PoolOptions? cloud = null)
    {
        cloud ??= new PoolOptions
        {
            Name = "cloud",
            Priority = 1,
            CapacityPerReplica = 2,
            Process = new ProcessSourceOptions { Command = "vllm", Arguments = ["serve", "--port", "{port}"], Replicas = 0 },
        };
        cloud.Scaling = scaling;
        var service = TestTopology.Service(TestTopology.Pool("on-prem", 0, 2, "http://10.0.0.1:8000"), cloud);
        service.TargetUtilization = targetUtilization;
        return TestTopology.Options(service);
    }

    [Fact]
    public void Check_ElasticPoolWithDefaults_GivesNoErrors()
    {
        Assert.Empty(GatewayOptionsValidator.Check(WithCloudScaling(new ScalingOptions { MaxReplicas = 2 })));
    }

    [Fact]
    public void Check_MaxBelowMin_NamesMaxReplicas()
    {
        var errors = GatewayOptionsValidator.Check(WithCloudScaling(new ScalingOptions { MinReplicas = 2, MaxReplicas = 1 }));

        Assert.Equal(["Gateway:Services:0:Pools:1:Scaling:MaxReplicas: must be at least MinReplicas (2), got 1"], errors);
    }

    [Fact]
    public void Check_NegativeMinAndZeroMax_NamesBoth()
    {
        var errors = GatewayOptionsValidator.Check(WithCloudScaling(new ScalingOptions { MinReplicas = -1, MaxReplicas = 0 }));

        Assert.Equal(
            [
                "Gateway:Services:0:Pools:1:Scaling:MinReplicas: must be 0 or more, got -1",
                "Gateway:Services:0:Pools:1:Scaling:MaxReplicas: must be at least 1, got 0",
            ],
            errors);
    }

    [Fact]
    public void Check_BadWindows_NameTheirKeys()
    {
        var errors = GatewayOptionsValidator.Check(WithCloudScaling(new ScalingOptions
        {
            ScaleOutWindowSeconds = -1,
            ScaleInStabilizationSeconds = double.NaN,
            DrainTimeoutSeconds = 0,
        }));

        Assert.Equal(
            [
                "Gateway:Services:0:Pools:1:Scaling:ScaleOutWindowSeconds: must be 0 or more and at most 86400 seconds (a day), got -1",
                "Gateway:Services:0:Pools:1:Scaling:ScaleInStabilizationSeconds: must be 0 or more and at most 86400 seconds (a day), got NaN",
                "Gateway:Services:0:Pools:1:Scaling:DrainTimeoutSeconds: must be more than 0 and at most 86400 seconds (a day), got 0",
            ],
            errors);
    }

    [Fact]
    public void Check_ZeroWindows_AreAllowed()
    {
        Assert.Empty(GatewayOptionsValidator.Check(WithCloudScaling(new ScalingOptions { ScaleOutWindowSeconds = 0, ScaleInStabilizationSeconds = 0 })));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Check_TargetUtilizationOutOfRange_NamesIt(double target)
    {
        var errors = GatewayOptionsValidator.Check(WithCloudScaling(new ScalingOptions(), target));

        Assert.Equal([$"Gateway:Services:0:TargetUtilization: must be more than 0 and at most 1, got {target.ToString(System.Globalization.CultureInfo.InvariantCulture)}"], errors);
    }

    [Fact]
    public void Check_ProvisioningTimeoutZero_NamesIt()
    {
        var errors = GatewayOptionsValidator.Check(WithCloudScaling(new ScalingOptions { ProvisioningTimeoutSeconds = 0 }));

        Assert.Equal([$"{Cloud}:Scaling:ProvisioningTimeoutSeconds: must be more than 0 and at most 86400 seconds (a day), got 0"], errors);
    }

    [Fact]
    public void Check_StaticPoolWithWebhook_GivesNoErrors()
    {
        var scaling = new ScalingOptions { MaxReplicas = 2, Webhook = new WebhookScalerOptions { Url = "https://scaler.internal/scale?token=x" } };

        Assert.Empty(GatewayOptionsValidator.Check(WithCloudScaling(scaling, cloud: Candidates(2))));
    }

    [Fact]
    public void Check_StaticPoolWithoutWebhook_IsRejected()
    {
        var errors = GatewayOptionsValidator.Check(WithCloudScaling(new ScalingOptions(), cloud: Candidates(1)));

        Assert.Equal(
            [$"{Cloud}:Scaling: nothing can scale a Static pool: add Webhook (its Static addresses are then the candidates the webhook starts), or drop Scaling"],
            errors);
    }

    [Fact]
    public void Check_KubernetesPoolWithoutScaleTargetOrWebhook_IsRejected()
    {
        var errors = GatewayOptionsValidator.Check(WithCloudScaling(new ScalingOptions(), cloud: KubernetesPool()));

        Assert.Equal(
            [$"{Cloud}:Scaling: nothing can scale a Kubernetes pool by itself: add Kubernetes (a Deployment or InferenceService to patch) or Webhook, or drop Scaling"],
            errors);
    }

    [Fact]
    public void Check_StaticPoolWithMoreMaxThanCandidates_NamesMaxReplicas()
    {
        var scaling = new ScalingOptions { MaxReplicas = 3, Webhook = new WebhookScalerOptions { Url = "http://127.0.0.1:9000/scale" } };

        var errors = GatewayOptionsValidator.Check(WithCloudScaling(scaling, cloud: Candidates(2)));

        Assert.Equal([$"{Cloud}:Scaling:MaxReplicas: a Static pool scaled by a webhook has at most its 2 candidate addresses, got 3"], errors);
    }

    [Fact]
    public void Check_WebhookAndKubernetesTogether_AreRejected()
    {
        var scaling = new ScalingOptions
        {
            Webhook = new WebhookScalerOptions { Url = "http://127.0.0.1:9000/scale" },
            Kubernetes = new KubernetesScaleTargetOptions { Name = "qwen-cloud" },
        };

        var errors = GatewayOptionsValidator.Check(WithCloudScaling(scaling, cloud: KubernetesPool()));

        Assert.Equal([$"{Cloud}:Scaling: give at most one of Webhook and Kubernetes: two scalers would each ask for their own count"], errors);
    }

    [Fact]
    public void Check_KubernetesScaleTargetOnAStaticPool_IsRejected()
    {
        var errors = GatewayOptionsValidator.Check(WithCloudScaling(
            new ScalingOptions { Kubernetes = new KubernetesScaleTargetOptions { Name = "qwen-cloud" } }, cloud: Candidates(1)));

        Assert.Equal([$"{Cloud}:Scaling:Kubernetes: a scale target needs a pool with a Kubernetes source, whose pods it scales"], errors);
    }

    [Fact]
    public void Check_KubernetesScaleTargetOnAProcessPool_IsRejected()
    {
        var errors = GatewayOptionsValidator.Check(WithCloudScaling(new ScalingOptions { Kubernetes = new KubernetesScaleTargetOptions { Name = "qwen-cloud" } }));

        Assert.Equal([$"{Cloud}:Scaling:Kubernetes: a Process pool scales itself (it starts its replicas); a scale target needs a Kubernetes source"], errors);
    }

    [Fact]
    public void Check_WebhookOnAProcessPool_IsRejected()
    {
        var errors = GatewayOptionsValidator.Check(WithCloudScaling(new ScalingOptions { Webhook = new WebhookScalerOptions { Url = "http://127.0.0.1:9000/scale" } }));

        Assert.Equal([$"{Cloud}:Scaling:Webhook: a Process pool scales itself (it starts its replicas); use a Static or Kubernetes source with a webhook"], errors);
    }

    [Fact]
    public void Check_KubernetesPoolWithWebhookOrScaleTarget_GivesNoErrors()
    {
        Assert.Empty(GatewayOptionsValidator.Check(WithCloudScaling(
            new ScalingOptions { Webhook = new WebhookScalerOptions { Url = "http://scaler.internal/scale" } }, cloud: KubernetesPool())));
        Assert.Empty(GatewayOptionsValidator.Check(WithCloudScaling(
            new ScalingOptions { Kubernetes = new KubernetesScaleTargetOptions { Kind = KubernetesScaleTargetKind.InferenceService, Name = "qwen" } },
            cloud: KubernetesPool())));
    }

    [Fact]
    public void Check_KubernetesScaleTargetWithoutNameOrWithUnknownKind_NamesBoth()
    {
        var scaling = new ScalingOptions { Kubernetes = new KubernetesScaleTargetOptions { Kind = (KubernetesScaleTargetKind)7, Name = " " } };

        var errors = GatewayOptionsValidator.Check(WithCloudScaling(scaling, cloud: KubernetesPool()));

        Assert.Equal(
            [
                $"{Cloud}:Scaling:Kubernetes:Name: must name the Deployment or InferenceService to scale",
                $"{Cloud}:Scaling:Kubernetes:Kind: must be Deployment or InferenceService, got 7",
            ],
            errors);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/scale")]
    [InlineData("ftp://scaler.internal/scale")]
    [InlineData("scaler.internal:9000")]
    public void Check_WebhookUrlNotAbsoluteHttp_NamesUrlWithoutRepeatingIt(string url)
    {
        var scaling = new ScalingOptions { Webhook = new WebhookScalerOptions { Url = url } };

        var errors = GatewayOptionsValidator.Check(WithCloudScaling(scaling, cloud: Candidates(1)));

        Assert.Equal([$"{Cloud}:Scaling:Webhook:Url: must be an absolute http:// or https:// URL"], errors);
    }

    [Fact]
    public void Check_WebhookTimeoutRetriesAndBreakOutOfRange_NameTheirKeys()
    {
        var scaling = new ScalingOptions
        {
            Webhook = new WebhookScalerOptions { Url = "http://127.0.0.1:9000/scale", TimeoutSeconds = 0, MaxRetries = 11, BreakSeconds = 86401 },
        };

        var errors = GatewayOptionsValidator.Check(WithCloudScaling(scaling, cloud: Candidates(1)));

        Assert.Equal(
            [
                $"{Cloud}:Scaling:Webhook:TimeoutSeconds: must be at least 0.01 and at most 86400 seconds (a day), got 0",
                $"{Cloud}:Scaling:Webhook:MaxRetries: must be between 0 and 10, got 11",
                $"{Cloud}:Scaling:Webhook:BreakSeconds: must be at least 0.5 and at most 86400 seconds (a day), got 86401",
            ],
            errors);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    public void Check_WebhookNegativeOrNaNSeconds_AreRejected(double seconds)
    {
        var scaling = new ScalingOptions { Webhook = new WebhookScalerOptions { Url = "http://127.0.0.1:9000/scale", TimeoutSeconds = seconds, MaxRetries = -1 } };

        var errors = GatewayOptionsValidator.Check(WithCloudScaling(scaling, cloud: Candidates(1)));

        Assert.Equal(2, errors.Count);
        Assert.StartsWith($"{Cloud}:Scaling:Webhook:TimeoutSeconds: ", errors[0], StringComparison.Ordinal);
        Assert.Equal($"{Cloud}:Scaling:Webhook:MaxRetries: must be between 0 and 10, got -1", errors[1]);
    }

    private static PoolOptions Candidates(int count) =>
        TestTopology.Pool("cloud", 1, 2, [.. Enumerable.Range(1, count).Select(i => $"http://10.0.1.{i}:8000")]);

    private static PoolOptions KubernetesPool() => new()
    {
        Name = "cloud",
        Priority = 1,
        CapacityPerReplica = 2,
        Kubernetes = new KubernetesSourceOptions { ServiceName = "qwen", Port = "http", PoolLabelValue = "np-cloud" },
    };

    [Fact]
    public void Check_WebhookBreakShorterThanHalfASecond_IsRejected()
    {
        var scaling = new ScalingOptions { Webhook = new WebhookScalerOptions { Url = "http://127.0.0.1:9000/scale", BreakSeconds = 0.4 } };

        var errors = GatewayOptionsValidator.Check(WithCloudScaling(scaling, cloud: Candidates(1)));

        Assert.Equal([$"{Cloud}:Scaling:Webhook:BreakSeconds: must be at least 0.5 and at most 86400 seconds (a day), got 0.4"], errors);
    }

    [Theory]
    [InlineData(0.01, 0, 0.5)]
    [InlineData(86400, 10, 86400)]
    public void Check_WebhookAtTheEdgesOfWhatValidationAllows_BuildsItsResiliencePipeline(double timeout, int retries, double breakSeconds)
    {
        var webhook = new WebhookScalerOptions { Url = "http://127.0.0.1:9000/scale", TimeoutSeconds = timeout, MaxRetries = retries, BreakSeconds = breakSeconds };
        Assert.Empty(GatewayOptionsValidator.Check(WithCloudScaling(new ScalingOptions { Webhook = webhook }, cloud: Candidates(1))));

        var builder = new Polly.ResiliencePipelineBuilder<HttpResponseMessage>();
        WebhookPoolScaler.AddPipeline(builder, webhook);

        Assert.NotNull(builder.Build());
    }
}

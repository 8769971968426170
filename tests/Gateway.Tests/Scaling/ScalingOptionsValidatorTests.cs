using Gateway.Configuration;
using Gateway.Scaling;

namespace Gateway.Tests.Scaling;

public sealed class ScalingOptionsValidatorTests
{
    private static GatewayOptions WithCloudScaling(ScalingOptions scaling, double targetUtilization = 0.8)
    {
        var cloud = TestTopology.Pool("cloud", 1, 2, "http://10.0.1.1:8000");
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
}

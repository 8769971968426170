using Gateway.Configuration;
using Gateway.Telemetry;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Configuration;

public sealed class TelemetryOptionsValidatorTests
{
    private static List<string> Check(OtlpOptions otlp)
    {
        var errors = new List<string>();
        TelemetryOptionsValidator.Check(errors, new TelemetryOptions { Otlp = otlp }, "Gateway:Telemetry");
        return errors;
    }

    private static IConfiguration Variables(params (string Key, string Value)[] variables) =>
        new ConfigurationBuilder().AddInMemoryCollection(variables.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    [Fact]
    public void Defaults_AreValid_AndOff()
    {
        Assert.Empty(Check(new OtlpOptions()));
        Assert.False(TelemetryServiceCollectionExtensions.IsOpenTelemetryOn(new TelemetryOptions(), Variables()));
    }

    [Fact]
    public void Check_EndpointNotAnHttpUrl_NamesIt()
    {
        Assert.Equal(
            ["Gateway:Telemetry:Otlp:Endpoint: must be an absolute http:// or https:// URL, got 'otel-collector:4317'"],
            Check(new OtlpOptions { Endpoint = "otel-collector:4317" }));
    }

    [Fact]
    public void Check_UnknownProtocol_NamesItAndTheChoices()
    {
        Assert.Equal(
            ["Gateway:Telemetry:Otlp:Protocol: must be grpc or http/protobuf, got 'http/json'"],
            Check(new OtlpOptions { Protocol = "http/json" }));
    }

    [Fact]
    public void Check_EmptyServiceName_NamesIt()
    {
        Assert.Equal(["Gateway:Telemetry:Otlp:ServiceName: must not be empty"], Check(new OtlpOptions { ServiceName = " " }));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Check_SamplingRatioOutsideZeroToOne_NamesIt(double ratio)
    {
        var error = Assert.Single(Check(new OtlpOptions { SamplingRatio = ratio }));
        Assert.StartsWith("Gateway:Telemetry:Otlp:SamplingRatio: must be between 0 and 1, got ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_AGoodExporter_IsValid()
    {
        Assert.Empty(Check(new OtlpOptions { Endpoint = "http://otel-collector:4318", Protocol = "http/protobuf", ServiceName = "gw", SamplingRatio = 0.25 }));
    }

    [Fact]
    public void Load_TelemetryKeyMisspelt_NamesItWithTheKnownOnes()
    {
        var configuration = Variables(("Gateway:Telemetry:Otlp:Endpoit", "http://collector:4318"));

        var error = Assert.Single(Assert.Throws<GatewayConfigurationException>(() => GatewayConfiguration.Load(configuration)).Errors);
        Assert.StartsWith("Gateway:Telemetry:Otlp:Endpoit: unknown setting (known here: Endpoint, Protocol, ServiceName, SamplingRatio)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void IsOn_WithTheStandardVariable_OrTheKey_UnlessTheSdkIsDisabled()
    {
        var fromKey = new TelemetryOptions { Otlp = new OtlpOptions { Endpoint = "http://collector:4318" } };

        Assert.True(TelemetryServiceCollectionExtensions.IsOpenTelemetryOn(new TelemetryOptions(), Variables(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"))));
        Assert.True(TelemetryServiceCollectionExtensions.IsOpenTelemetryOn(fromKey, Variables()));
        Assert.False(TelemetryServiceCollectionExtensions.IsOpenTelemetryOn(fromKey, Variables(("OTEL_SDK_DISABLED", "true"))));
        Assert.False(TelemetryServiceCollectionExtensions.IsOpenTelemetryOn(new TelemetryOptions(), Variables(("OTEL_EXPORTER_OTLP_ENDPOINT", ""))));
    }
}

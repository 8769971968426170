using System.Globalization;

namespace Gateway.Configuration;

/// <summary>Checks <see cref="TelemetryOptions"/>; the <c>OTEL_*</c> variables are the OpenTelemetry SDK's to judge.</summary>
internal static class TelemetryOptionsValidator
{
    /// <summary>The protocols <see cref="OtlpOptions.Protocol"/> takes, with the standard variable's spelling.</summary>
    public static readonly string[] Protocols = ["grpc", "http/protobuf"];

    /// <summary>Adds a message to <paramref name="errors"/> for every bad value under <paramref name="path"/> (<c>Gateway:Telemetry</c>).</summary>
    public static void Check(List<string> errors, TelemetryOptions telemetry, string path)
    {
        var otlp = telemetry.Otlp;
        if (otlp.Endpoint is not null)
        {
            OptionsChecks.CheckUrl(errors, $"{path}:Otlp:Endpoint", otlp.Endpoint);
        }

        if (otlp.Protocol is not null && Array.IndexOf(Protocols, otlp.Protocol) < 0)
        {
            errors.Add($"{path}:Otlp:Protocol: must be {string.Join(" or ", Protocols)}, got '{otlp.Protocol}'");
        }

        if (otlp.ServiceName is not null && string.IsNullOrWhiteSpace(otlp.ServiceName))
        {
            errors.Add($"{path}:Otlp:ServiceName: must not be empty");
        }

        if (otlp.SamplingRatio is { } ratio && !(ratio is >= 0 and <= 1))
        {
            errors.Add($"{path}:Otlp:SamplingRatio: must be between 0 and 1, got {ratio.ToString(CultureInfo.InvariantCulture)}");
        }
    }
}

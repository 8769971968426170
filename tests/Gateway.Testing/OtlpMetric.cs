namespace Gateway.Testing;

/// <summary>One metric an OTLP exporter sent, decoded by <see cref="OtlpDecoder.ReadMetrics"/>: its name and unit, not its points.</summary>
/// <param name="Name">The instrument's name.</param>
/// <param name="Unit">Its unit, empty when none.</param>
/// <param name="ServiceName">The <c>service.name</c> attribute of the resource that sent it; null when missing.</param>
/// <param name="ScopeName">The instrumentation scope (for .NET, the <see cref="System.Diagnostics.Metrics.Meter"/>'s name).</param>
public sealed record OtlpMetric(string Name, string Unit, string? ServiceName, string ScopeName);

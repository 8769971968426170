using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.LoadTests.Reports;

/// <summary>Writes a drill's report as indented camelCase JSON, creating the folder.</summary>
internal static class ReportFile
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static async Task WriteAsync(string path, object report, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, report, report.GetType(), Json, cancellationToken);
    }
}

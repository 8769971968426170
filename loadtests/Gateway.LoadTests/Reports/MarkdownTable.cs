using System.Globalization;
using System.Text;

namespace Gateway.LoadTests.Reports;

/// <summary>A Markdown table, built row by row and printed as GitHub renders it.</summary>
internal sealed class MarkdownTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public MarkdownTable Row(params object?[] cells)
    {
        _rows.Add(Array.ConvertAll(cells, Cell));
        return this;
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", headers).AppendLine(" |");
        text.Append('|').AppendJoin("|", headers.Select(_ => "---")).AppendLine("|");
        foreach (var row in _rows)
        {
            text.Append("| ").AppendJoin(" | ", row).AppendLine(" |");
        }

        return text.ToString();
    }

    /// <summary>Numbers with thousands separators and about 3 significant digits below 1,000; null as a dash.</summary>
    public static string Cell(object? value) => value switch
    {
        null => "-",
        double d when double.IsNaN(d) => "-",
        double d => d.ToString(Math.Abs(d) switch { >= 1000 => "#,0", >= 100 => "0.#", >= 1 => "0.##", _ => "0.###" }, CultureInfo.InvariantCulture),
        long l => l.ToString("#,0", CultureInfo.InvariantCulture),
        int i => i.ToString("#,0", CultureInfo.InvariantCulture),
        bool b => b ? "yes" : "no",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "-",
    };
}

using System.Globalization;
using System.Security;
using System.Text;

namespace Gateway.Planning;

/// <summary>
/// The cost against TTFT p99 of every plan as a self-contained SVG (no script, no font or style from elsewhere): one
/// dot per plan, labelled, and the frontier, the plans no other beats on both, joined by a line.
/// </summary>
internal static class FrontierPicture
{
    private const int Width = 760;
    private const int Height = 480;
    private const int Left = 80;
    private const int Right = 30;
    private const int Top = 40;
    private const int Bottom = 60;

    /// <summary>The picture of <paramref name="points"/> (label, cost, TTFT p99 in seconds); <paramref name="costName"/> names the x axis.</summary>
    public static string Svg(IReadOnlyList<(string Label, double Cost, double TtftP99)> points, string costName, string title)
    {
        var maxCost = Math.Max(points.Count == 0 ? 1 : points.Max(p => p.Cost), 1e-9) * 1.1;
        var maxTtft = Math.Max(points.Count == 0 ? 1 : points.Max(p => p.TtftP99), 1e-9) * 1.1;
        double X(double cost) => Left + (cost / maxCost * (Width - Left - Right));
        double Y(double ttft) => Height - Bottom - (ttft / maxTtft * (Height - Top - Bottom));

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" font-family="sans-serif" font-size="12">""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<rect width="{Width}" height="{Height}" fill="white"/>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Width / 2}" y="22" text-anchor="middle" font-size="14">{Escape(title)}</text>""").Append('\n');

        // Axes with five ticks each.
        svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{Height - Bottom}" x2="{Width - Right}" y2="{Height - Bottom}" stroke="black"/>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" y1="{Top}" x2="{Left}" y2="{Height - Bottom}" stroke="black"/>""").Append('\n');
        for (var i = 0; i <= 5; i++)
        {
            var cost = maxCost * i / 5;
            var ttft = maxTtft * i / 5;
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{X(cost):F1}" y="{Height - Bottom + 18}" text-anchor="middle">{cost:G4}</text>""").Append('\n');
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left - 8}" y="{Y(ttft) + 4:F1}" text-anchor="end">{ttft:G3}</text>""").Append('\n');
        }

        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{(Left + Width - Right) / 2}" y="{Height - 16}" text-anchor="middle">{Escape(costName)}</text>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="18" y="{(Top + Height - Bottom) / 2}" text-anchor="middle" transform="rotate(-90 18 {(Top + Height - Bottom) / 2})">TTFT p99 (s)</text>""").Append('\n');

        var frontier = Frontier(points);
        if (frontier.Count > 1)
        {
            var path = string.Join(" ", frontier.Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.Cost):F1},{Y(p.TtftP99):F1}")));
            svg.Append(CultureInfo.InvariantCulture, $"""<polyline points="{path}" fill="none" stroke="#1f77b4" stroke-width="2"/>""").Append('\n');
        }

        foreach (var point in points)
        {
            var onFrontier = frontier.Contains(point);
            svg.Append(CultureInfo.InvariantCulture, $"""<circle cx="{X(point.Cost):F1}" cy="{Y(point.TtftP99):F1}" r="5" fill="{(onFrontier ? "#1f77b4" : "#999999")}"/>""").Append('\n');
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{X(point.Cost) + 8:F1}" y="{Y(point.TtftP99) - 8:F1}">{Escape(point.Label)}</text>""").Append('\n');
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>The plans no other is at least as good as on both cost and TTFT p99 and better on one, cheapest first.</summary>
    public static List<(string Label, double Cost, double TtftP99)> Frontier(IReadOnlyList<(string Label, double Cost, double TtftP99)> points)
    {
        var frontier = new List<(string Label, double Cost, double TtftP99)>();
        foreach (var point in points.OrderBy(p => p.Cost).ThenBy(p => p.TtftP99))
        {
            if (frontier.Count == 0 || point.TtftP99 < frontier[^1].TtftP99)
            {
                frontier.Add(point);
            }
        }

        return frontier;
    }

    private static string Escape(string text) => SecurityElement.Escape(text) ?? "";
}

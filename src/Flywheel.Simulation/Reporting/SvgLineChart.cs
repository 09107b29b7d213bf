using System.Globalization;
using System.Text;

namespace Flywheel.Simulation.Reporting;

/// <summary>One point of a series, in data units.</summary>
/// <param name="X">Horizontal position (a day of the run).</param>
/// <param name="Y">Value.</param>
internal readonly record struct ChartPoint(double X, double Y);

/// <summary>The shape of an event marker on a series.</summary>
internal enum MarkerKind
{
    /// <summary>A filled circle: a model was promoted.</summary>
    Promoted,

    /// <summary>A downward triangle: a champion was rolled back.</summary>
    RolledBack,
}

/// <summary>An event drawn on a series' line at day <paramref name="X"/>, with a tooltip.</summary>
/// <param name="X">The day of the event.</param>
/// <param name="Kind">Its shape.</param>
/// <param name="Title">Tooltip text.</param>
internal readonly record struct ChartMarker(double X, MarkerKind Kind, string Title);

/// <summary>One line of a chart.</summary>
/// <param name="Name">Legend name, also written as <c>data-series</c>.</param>
/// <param name="Color">CSS colour of the line.</param>
/// <param name="Points">Points in increasing X.</param>
/// <param name="Markers">Events to mark on the line.</param>
internal sealed record ChartSeries(string Name, string Color, IReadOnlyList<ChartPoint> Points, IReadOnlyList<ChartMarker> Markers);

/// <summary>
/// A small, deterministic line chart written as inline SVG: a nice-number Y axis with grid lines, X ticks given by the
/// caller, a legend, one <c>path.series</c> per series and optional event markers. No scripts, no external resources.
/// </summary>
internal sealed class SvgLineChart
{
    private const double Width = 960;
    private const double Height = 300;
    private const double Left = 60;
    private const double Right = 20;
    private const double Top = 40;
    private const double Bottom = 30;

    /// <summary>Written as <c>data-chart</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Accessible name of the chart.</summary>
    public required string Label { get; init; }

    /// <summary>First X of the axis.</summary>
    public required double XMin { get; init; }

    /// <summary>Last X of the axis.</summary>
    public required double XMax { get; init; }

    /// <summary>Labelled X ticks (vertical grid lines).</summary>
    public IReadOnlyList<(double X, string Label)> XTicks { get; init; } = [];

    /// <summary>Whether the Y axis must include zero.</summary>
    public bool IncludeZero { get; init; } = true;

    /// <summary>Formats a Y tick label.</summary>
    public Func<double, string> FormatY { get; init; } = y => Number(y, "0.##");

    /// <summary>The chart as an <c>&lt;svg&gt;</c> element.</summary>
    public string Render(IReadOnlyList<ChartSeries> series)
    {
        var (yMin, yMax, step) = YAxis(series);
        var plotW = Width - Left - Right;
        var plotH = Height - Top - Bottom;
        double Px(double x) => Left + (XMax > XMin ? (x - XMin) / (XMax - XMin) : 0.5) * plotW;
        double Py(double y) => Top + (1 - (y - yMin) / (yMax - yMin)) * plotH;

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" data-chart=\"{Html.Encode(Id)}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"{Html.Encode(Label)}\">\n");

        // Grid and axes.
        svg.Append("<g class=\"grid\">\n");
        var ticks = (int)Math.Round((yMax - yMin) / step);
        for (var i = 0; i <= ticks; i++)
        {
            var y = yMin + i * step;
            var py = C(Py(y));
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{C(Left)}\" y1=\"{py}\" x2=\"{C(Width - Right)}\" y2=\"{py}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"y-tick\" x=\"{C(Left - 8)}\" y=\"{py}\" dy=\"0.32em\" text-anchor=\"end\">{Html.Encode(FormatY(Clean(y)))}</text>\n");
        }
        foreach (var (x, label) in XTicks.Where(t => t.X >= XMin && t.X <= XMax))
        {
            var px = C(Px(x));
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"x-grid\" x1=\"{px}\" y1=\"{C(Top)}\" x2=\"{px}\" y2=\"{C(Height - Bottom)}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"x-tick\" x=\"{px}\" y=\"{C(Height - Bottom + 18)}\" text-anchor=\"start\" dx=\"3\">{Html.Encode(label)}</text>\n");
        }
        svg.Append(CultureInfo.InvariantCulture, $"<line class=\"axis\" x1=\"{C(Left)}\" y1=\"{C(Height - Bottom)}\" x2=\"{C(Width - Right)}\" y2=\"{C(Height - Bottom)}\"/>\n");
        svg.Append("</g>\n");

        // Series, then markers on top of every line.
        foreach (var s in series)
        {
            var d = new StringBuilder();
            foreach (var p in s.Points)
            {
                d.Append(d.Length == 0 ? 'M' : 'L').Append(C(Px(p.X))).Append(' ').Append(C(Py(p.Y)));
            }
            svg.Append(CultureInfo.InvariantCulture,
                $"<path class=\"series\" data-series=\"{Html.Encode(s.Name)}\" data-points=\"{s.Points.Count}\" fill=\"none\" stroke=\"{s.Color}\" d=\"{d}\"><title>{Html.Encode(s.Name)}</title></path>\n");
        }
        foreach (var s in series.Where(s => s.Points.Count > 0))
        {
            foreach (var m in s.Markers)
            {
                var x = Math.Clamp(m.X, XMin, XMax);
                var px = Px(x);
                var py = Py(Interpolate(s.Points, x));
                var shape = m.Kind == MarkerKind.Promoted
                    ? $"<circle cx=\"{C(px)}\" cy=\"{C(py)}\" r=\"6\"/>"
                    : $"<path d=\"M{C(px - 7)} {C(py - 6)}L{C(px + 7)} {C(py - 6)}L{C(px)} {C(py + 6.5)}Z\"/>";
                var kind = m.Kind == MarkerKind.Promoted ? "promoted" : "rolled-back";
                svg.Append(CultureInfo.InvariantCulture,
                    $"<g class=\"turn-marker {kind}\" data-series=\"{Html.Encode(s.Name)}\" fill=\"{s.Color}\"><title>{Html.Encode(m.Title)}</title>{shape}</g>\n");
            }
        }

        // Legend along the top.
        svg.Append("<g class=\"legend\">\n");
        var lx = Left;
        foreach (var s in series)
        {
            svg.Append(CultureInfo.InvariantCulture,
                $"<g class=\"legend-item\" data-series=\"{Html.Encode(s.Name)}\"><line x1=\"{C(lx)}\" y1=\"16\" x2=\"{C(lx + 22)}\" y2=\"16\" stroke=\"{s.Color}\"/><text x=\"{C(lx + 28)}\" y=\"16\" dy=\"0.32em\">{Html.Encode(s.Name)}</text></g>\n");
            lx += 28 + 8 * s.Name.Length + 22;
        }
        var kinds = series.Where(s => s.Points.Count > 0).SelectMany(s => s.Markers).Select(m => m.Kind).Distinct().Order().ToList();
        foreach (var kind in kinds)
        {
            var (shape, text) = kind == MarkerKind.Promoted
                ? ($"<circle cx=\"{C(lx + 5)}\" cy=\"16\" r=\"5\"/>", "model promoted")
                : ($"<path d=\"M{C(lx - 0.5)} 11L{C(lx + 10.5)} 11L{C(lx + 5)} 21Z\"/>", "rolled back");
            svg.Append(CultureInfo.InvariantCulture,
                $"<g class=\"legend-marker\">{shape}<text x=\"{C(lx + 16)}\" y=\"16\" dy=\"0.32em\">{text}</text></g>\n");
            lx += 16 + 7 * text.Length + 22;
        }
        svg.Append("</g>\n</svg>");
        return svg.ToString();
    }

    /// <summary>The series' value at <paramref name="x"/>, linear between points and flat beyond the ends.</summary>
    internal static double Interpolate(IReadOnlyList<ChartPoint> points, double x)
    {
        if (x <= points[0].X)
        {
            return points[0].Y;
        }
        for (var i = 1; i < points.Count; i++)
        {
            if (x <= points[i].X)
            {
                var (a, b) = (points[i - 1], points[i]);
                return b.X > a.X ? a.Y + (b.Y - a.Y) * (x - a.X) / (b.X - a.X) : b.Y;
            }
        }
        return points[^1].Y;
    }

    /// <summary>A Y range that covers every point, rounded out to a nice step with about five intervals.</summary>
    private (double Min, double Max, double Step) YAxis(IReadOnlyList<ChartSeries> series)
    {
        var values = series.SelectMany(s => s.Points).Select(p => p.Y).ToList();
        var lo = values.Count == 0 ? 0 : values.Min();
        var hi = values.Count == 0 ? 1 : values.Max();
        if (IncludeZero)
        {
            lo = Math.Min(lo, 0);
            hi = Math.Max(hi, 0);
        }
        if (hi - lo < 1e-9)
        {
            (lo, hi) = (lo - 0.5, hi + 0.5);
        }
        var step = NiceStep((hi - lo) / 5);
        var min = Math.Floor(lo / step + 1e-9) * step;
        var max = Math.Ceiling(hi / step - 1e-9) * step;
        return (min, max, step);
    }

    /// <summary>1, 2, 2.5 or 5 times a power of ten, at least <paramref name="raw"/>.</summary>
    internal static double NiceStep(double raw)
    {
        var power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        foreach (var m in (ReadOnlySpan<double>)[1, 2, 2.5, 5, 10])
        {
            if (m * power >= raw * (1 - 1e-9))
            {
                return m * power;
            }
        }
        return 10 * power;
    }

    /// <summary>A coordinate with one decimal, invariant, never <c>-0</c>.</summary>
    private static string C(double v) => Number(v, "0.#");

    /// <summary>Rounds away floating-point dust so that tick values print as written (0.30000000000000004 → 0.3).</summary>
    private static double Clean(double v) => Math.Round(v, 10);

    /// <summary>Formats invariantly, never printing a negative zero.</summary>
    internal static string Number(double v, string format)
    {
        var s = v.ToString(format, CultureInfo.InvariantCulture);
        return s.StartsWith('-') && s.Trim('-', '0', '.', '%').Length == 0 ? s[1..] : s;
    }
}

/// <summary>Minimal HTML text and attribute encoding, the same bytes on every platform.</summary>
internal static class Html
{
    /// <summary>Escapes <c>&amp; &lt; &gt; " '</c>.</summary>
    public static string Encode(string text)
    {
        if (text.AsSpan().IndexOfAny("&<>\"'") < 0)
        {
            return text;
        }
        var sb = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            _ = c switch
            {
                '&' => sb.Append("&amp;"),
                '<' => sb.Append("&lt;"),
                '>' => sb.Append("&gt;"),
                '"' => sb.Append("&quot;"),
                '\'' => sb.Append("&#39;"),
                _ => sb.Append(c),
            };
        }
        return sb.ToString();
    }
}

using System.Text;
using static Flywheel.Server.Dashboard.Html;

namespace Flywheel.Server.Dashboard;

/// <summary>One line of a chart: its name (legend and <c>data-series</c>), colour and points in data units.</summary>
internal sealed record ChartSeries(string Name, string Color, IReadOnlyList<(double X, double Y)> Points, string Css = "series", bool Markers = true);

/// <summary>One arrow of the wheel: what it carries, its live figure and a detail line; broken when the verdict blames it.</summary>
internal readonly record struct WheelArrow(string Label, string Figure, string Detail, bool Broken);

/// <summary>One bar of a bar chart.</summary>
internal sealed record ChartBar(string Label, double Value, string Text, string? Css = null);

/// <summary>
/// Server-side SVG charts: the dashboard draws them as markup so it works offline, needs no script and no chart
/// library, and every point carries a <c>title</c> with its figure. Charts carry <c>data-chart</c>, series
/// <c>data-series</c> and <c>data-points</c>, so a browser test can check that they hold data.
/// </summary>
internal static class Svg
{
    private const double Width = 520, Height = 240, Left = 60, Right = 14, Top = 14, Bottom = 36;

    public static readonly string[] Palette = ["#2f6fd6", "#1f8a4c", "#d35400", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#b7950b"];

    /// <summary>A line chart; <paramref name="logX"/> spaces x by its logarithm (learning curves).</summary>
    public static string Line(
        string id, IReadOnlyList<ChartSeries> series, Func<double, string> xLabel, Func<double, string> yLabel,
        string xTitle, string yTitle, bool logX = false, double? yMin = null, double? yMax = null)
    {
        var points = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y) && (!logX || p.X > 0)).ToList();
        if (points.Count == 0)
        {
            return Empty(id, "no data yet");
        }
        double Tx(double x) => logX ? Math.Log10(x) : x;
        var x0 = points.Min(p => Tx(p.X));
        var x1 = points.Max(p => Tx(p.X));
        var y0 = yMin ?? points.Min(p => p.Y);
        var y1 = yMax ?? points.Max(p => p.Y);
        if (yMin is null || yMax is null)
        {
            var pad = Math.Max((y1 - y0) * 0.08, 1e-3);
            y0 = yMin ?? y0 - pad;
            y1 = yMax ?? y1 + pad;
        }
        if (x1 - x0 < 1e-12)
        {
            x0 -= 0.5;
            x1 += 0.5;
        }
        double Px(double x) => Left + ((Tx(x) - x0) / (x1 - x0) * (Width - Left - Right));
        double Py(double y) => Top + ((1 - ((Math.Clamp(y, y0, y1) - y0) / (y1 - y0))) * (Height - Top - Bottom));

        var b = Open(id);
        // Grid and y ticks.
        for (var i = 0; i <= 4; i++)
        {
            var y = y0 + ((y1 - y0) * i / 4);
            var py = Py(y);
            b.Append(Invariant($"<line class=\"grid-line\" x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{py:0.#}\" y2=\"{py:0.#}\"/>"));
            b.Append(Invariant($"<text x=\"{Left - 6}\" y=\"{py + 4:0.#}\" text-anchor=\"end\">{E(yLabel(y))}</text>"));
        }
        // x ticks: five, or the decades on a log axis.
        var ticks = logX
            ? Enumerable.Range((int)Math.Ceiling(x0), Math.Max(0, (int)Math.Floor(x1) - (int)Math.Ceiling(x0) + 1)).Select(d => Math.Pow(10, d)).ToList()
            : Enumerable.Range(0, 5).Select(i => x0 + ((x1 - x0) * i / 4)).ToList();
        foreach (var x in ticks)
        {
            var px = Px(x);
            b.Append(Invariant($"<text x=\"{px:0.#}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\">{E(xLabel(x))}</text>"));
        }
        b.Append(Invariant($"<line class=\"axis\" x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Height - Bottom}\" y2=\"{Height - Bottom}\"/>"));
        b.Append(Invariant($"<line class=\"axis\" x1=\"{Left}\" x2=\"{Left}\" y1=\"{Top}\" y2=\"{Height - Bottom}\"/>"));
        b.Append(Invariant($"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 4}\" text-anchor=\"middle\">{E(xTitle)}</text>"));
        b.Append(Invariant($"<text x=\"11\" y=\"{(Top + Height - Bottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 11 {(Top + Height - Bottom) / 2})\">{E(yTitle)}</text>"));

        foreach (var s in series)
        {
            var ps = s.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y) && (!logX || p.X > 0)).ToList();
            if (ps.Count == 0)
            {
                continue;
            }
            var d = new StringBuilder();
            for (var i = 0; i < ps.Count; i++)
            {
                d.Append(Invariant($"{(i == 0 ? "M" : " L")}{Px(ps[i].X):0.##} {Py(ps[i].Y):0.##}"));
            }
            if (ps.Count == 1)
            {
                // A lone point still draws: a short horizontal tick.
                d.Append(Invariant($" h0.01"));
            }
            b.Append(Invariant($"<path class=\"{s.Css}\" data-series=\"{E(s.Name)}\" data-points=\"{ps.Count}\" stroke=\"{s.Color}\" d=\"{d}\"/>"));
            if (s.Markers)
            {
                foreach (var p in ps)
                {
                    b.Append(Invariant($"<circle cx=\"{Px(p.X):0.##}\" cy=\"{Py(p.Y):0.##}\" r=\"2.6\" fill=\"{s.Color}\"><title>{E(s.Name)}: {E(xLabel(p.X))} → {E(yLabel(p.Y))}</title></circle>"));
                }
            }
        }
        b.Append("</svg>");
        b.Append("<div class=\"legend\">");
        foreach (var s in series.Where(s => s.Points.Count > 0))
        {
            b.Append(Invariant($"<span><i style=\"background:{s.Color}\"></i>{E(s.Name)}</span>"));
        }
        b.Append("</div>");
        return b.ToString();
    }

    /// <summary>A vertical bar chart of values from 0 to <paramref name="max"/> (1 for rates).</summary>
    public static string Bars(string id, IReadOnlyList<ChartBar> bars, double max, string yTitle)
    {
        if (bars.Count == 0 || !(max > 0))
        {
            return Empty(id, "no data yet");
        }
        var b = Open(id);
        var plotW = Width - Left - Right;
        var slot = plotW / bars.Count;
        var barW = Math.Min(56, slot * 0.7);
        double Py(double v) => Top + ((1 - (Math.Clamp(v, 0, max) / max)) * (Height - Top - Bottom));
        for (var i = 0; i <= 4; i++)
        {
            var py = Py(max * i / 4);
            b.Append(Invariant($"<line class=\"grid-line\" x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{py:0.#}\" y2=\"{py:0.#}\"/>"));
        }
        b.Append(Invariant($"<line class=\"axis\" x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Height - Bottom}\" y2=\"{Height - Bottom}\"/>"));
        b.Append(Invariant($"<text x=\"11\" y=\"{(Top + Height - Bottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 11 {(Top + Height - Bottom) / 2})\">{E(yTitle)}</text>"));
        for (var i = 0; i < bars.Count; i++)
        {
            var bar = bars[i];
            var v = double.IsFinite(bar.Value) ? Math.Max(0, bar.Value) : 0;
            var x = Left + (slot * i) + ((slot - barW) / 2);
            var y = Py(v);
            var h = Height - Bottom - y;
            b.Append(Invariant($"<rect class=\"bar{(bar.Css is null ? "" : " " + bar.Css)}\" data-label=\"{E(bar.Label)}\" data-value=\"{F(v, "0.######")}\" x=\"{x:0.##}\" y=\"{y:0.##}\" width=\"{barW:0.##}\" height=\"{Math.Max(h, 0.5):0.##}\"><title>{E(bar.Label)}: {E(bar.Text)}</title></rect>"));
            b.Append(Invariant($"<text x=\"{x + (barW / 2):0.##}\" y=\"{y - 4:0.##}\" text-anchor=\"middle\">{E(bar.Text)}</text>"));
            b.Append(Invariant($"<text x=\"{x + (barW / 2):0.##}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\">{E(bar.Label)}</text>"));
        }
        b.Append("</svg>");
        return b.ToString();
    }

    /// <summary>
    /// The wheel: usage → signals → model → usage as a cycle of three nodes, each arrow labelled with its live figure;
    /// the arrow the verdict blames is drawn broken.
    /// </summary>
    public static string Wheel((string Figure, string Detail) usage, WheelArrow toSignals, WheelArrow toModel, WheelArrow toUsage)
    {
        const double w = 720, h = 380, cx = 360, cy = 195, r = 125;
        (double X, double Y) At(double degrees) => (cx + (r * Math.Cos(degrees * Math.PI / 180)), cy + (r * Math.Sin(degrees * Math.PI / 180)));
        var nodes = new[] { ("usage", "Usage", At(-90)), ("signals", "Signals", At(30)), ("model", "Model", At(150)) };
        var b = new StringBuilder();
        b.Append(Invariant($"<svg data-chart=\"wheel\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"the wheel: usage, signals, model\">"));
        b.Append("<defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"8\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0 0 L10 5 L0 10 z\" fill=\"#2f6fd6\"/></marker>"
            + "<marker id=\"head-broken\" viewBox=\"0 0 10 10\" refX=\"8\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0 0 L10 5 L0 10 z\" fill=\"#c0392b\"/></marker></defs>");
        var arrows = new[] { (-90.0, 30.0, toSignals, "usage-signals"), (30.0, 150.0, toModel, "signals-model"), (150.0, 270.0, toUsage, "model-usage") };
        foreach (var (from, to, (label, figure, detail, broken), name) in arrows)
        {
            // An arc of the circle from one node to the next, leaving room for the node discs.
            var (sx, sy) = At(from + 22);
            var (ex, ey) = At(to - 22);
            var css = broken ? "arrow broken" : "arrow";
            var head = broken ? "head-broken" : "head";
            b.Append(Invariant($"<path class=\"{css}\" data-arrow=\"{name}\" d=\"M{sx:0.#} {sy:0.#} A{r} {r} 0 0 1 {ex:0.#} {ey:0.#}\" marker-end=\"url(#{head})\"><title>{E(label)}: {E(figure)}, {E(detail)}</title></path>"));
            var mid = (from + to) / 2;
            var lx = cx + ((r + 48) * Math.Cos(mid * Math.PI / 180));
            var ly = cy + ((r + 30) * Math.Sin(mid * Math.PI / 180));
            var anchor = Math.Cos(mid * Math.PI / 180) switch { > 0.3 => "start", < -0.3 => "end", _ => "middle" };
            if (anchor == "start")
            {
                lx -= 30;
            }
            else if (anchor == "end")
            {
                lx += 30;
            }
            b.Append(Invariant($"<text x=\"{lx:0.#}\" y=\"{ly:0.#}\" text-anchor=\"{anchor}\" class=\"muted\">{E(label)}</text>"));
            b.Append(Invariant($"<text x=\"{lx:0.#}\" y=\"{ly + 15:0.#}\" text-anchor=\"{anchor}\" class=\"figure\" data-figure=\"{name}\">{E(figure)}</text>"));
            b.Append(Invariant($"<text x=\"{lx:0.#}\" y=\"{ly + 30:0.#}\" text-anchor=\"{anchor}\">{E(detail)}</text>"));
        }
        foreach (var (id, label, (x, y)) in nodes)
        {
            b.Append(Invariant($"<circle class=\"node\" data-node=\"{id}\" cx=\"{x:0.#}\" cy=\"{y:0.#}\" r=\"40\"/>"));
            b.Append(Invariant($"<text class=\"node-label\" x=\"{x:0.#}\" y=\"{y + 5:0.#}\" text-anchor=\"middle\">{label}</text>"));
        }
        var (ux, uy) = At(-90);
        b.Append(Invariant($"<text x=\"{ux + 50:0.#}\" y=\"{uy - 8:0.#}\" class=\"figure\" data-figure=\"usage\">{E(usage.Figure)}</text>"));
        b.Append(Invariant($"<text x=\"{ux + 50:0.#}\" y=\"{uy + 7:0.#}\">{E(usage.Detail)}</text>"));
        b.Append("</svg>");
        return b.ToString();
    }

    private static StringBuilder Open(string id)
        => new StringBuilder().Append(Invariant($"<svg data-chart=\"{E(id)}\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\">"));

    private static string Empty(string id, string text)
        => Invariant($"<svg data-chart=\"{E(id)}\" data-empty=\"true\" viewBox=\"0 0 {Width} 60\" width=\"{Width}\" height=\"60\" role=\"img\"><text x=\"{Width / 2}\" y=\"34\" text-anchor=\"middle\">{E(text)}</text></svg>");

    private static string Invariant(FormattableString text) => text.ToString(C);
}

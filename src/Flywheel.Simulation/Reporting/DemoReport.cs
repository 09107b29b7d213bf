using System.Globalization;
using System.Text;
using Flywheel.Core;

namespace Flywheel.Simulation.Reporting;

/// <summary>
/// Writes a simulation's outcome as one self-contained HTML page (<c>flywheel demo</c>): inline CSS, charts as inline
/// SVG, no scripts and no external resources, so it opens offline. The same result always gives the same bytes.
/// </summary>
public static class DemoReport
{
    /// <summary>The file name written into the report's directory.</summary>
    public const string FileName = "index.html";

    private static readonly string[] Colors = ["#2563eb", "#ea580c", "#059669", "#9333ea", "#db2777", "#0891b2"];

    private static readonly string[] CountWords = ["No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"];

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// Writes <c>index.html</c> for <paramref name="result"/> into <paramref name="directory"/> (created if needed) and
    /// returns the file's full path. <paramref name="summary"/> is plain text, paragraphs separated by a blank line;
    /// it is HTML-encoded.
    /// </summary>
    public static string Write(SimulationResult result, string directory, string summary)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(summary);
        Directory.CreateDirectory(directory);
        var path = Path.GetFullPath(Path.Combine(directory, FileName));
        File.WriteAllText(path, Render(result, summary), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return path;
    }

    /// <summary>The page's HTML.</summary>
    internal static string Render(SimulationResult result, string summary)
    {
        var o = result.Options;
        var html = new StringBuilder();
        var title = $"{Count(result.Products.Count)} {(result.Products.Count == 1 ? "product" : "products")}, {Duration(o.Days)}";
        var command = $"flywheel demo --seed {o.Seed.ToString(Inv)} --days {o.Days.ToString(Inv)} --users {o.Users.ToString(Inv)}";

        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append(Inv, $"<title>{Html.Encode(title)} — Flywheel demo ({Html.Encode(result.Scenario.Name)}, seed {o.Seed})</title>\n")
            .Append("<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n<main>\n");

        // Title, products, summary.
        html.Append("<header>\n<p class=\"kicker\">Flywheel demo</p>\n")
            .Append(Inv, $"<h1>{Html.Encode(title)}</h1>\n")
            .Append(Inv, $"<p class=\"meta\">Scenario <b>{Html.Encode(result.Scenario.Name)}</b> · seed {o.Seed} · {o.Days} days from {SimulationCalendar.DateOf(1).ToString("d MMMM yyyy", Inv)} · {o.Users} users per product at launch</p>\n")
            .Append(Inv, $"<p class=\"scenario\">{Html.Encode(result.Scenario.Description)}</p>\n")
            .Append("<ul class=\"products\">\n");
        for (var i = 0; i < result.Products.Count; i++)
        {
            var spec = result.Products[i].Spec;
            var launch = spec.LaunchDay > 1 ? $" <span class=\"launch\">launches on day {spec.LaunchDay} ({Date(spec.LaunchDay)})</span>" : "";
            html.Append(Inv, $"<li><span class=\"swatch\" style=\"background:{Color(i)}\"></span><b>{Html.Encode(spec.Name)}</b> {Html.Encode(spec.Description)}{launch}</li>\n");
        }
        html.Append("</ul>\n</header>\n<section class=\"summary\">\n");
        foreach (var paragraph in summary.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            html.Append("<p>").Append(Html.Encode(paragraph).Replace("\n", "<br>\n", StringComparison.Ordinal)).Append("</p>\n");
        }
        html.Append("</section>\n");

        // Charts.
        var ticks = MonthTicks(o.Days);
        Chart(html, "Active users", "Daily active users, trailing 7-day mean, from each product's launch.",
            new SvgLineChart { Id = "active-users", Label = "Active users", XMin = 1, XMax = o.Days, XTicks = ticks, FormatY = y => SvgLineChart.Number(y, "#,0.##") },
            result.Products.Select((p, i) => new ChartSeries(p.Spec.Name, Color(i), ActiveUsers(p), Markers(p))).ToList());
        Chart(html, "Mean reward per decision", "Weekly mean reward per decision under the loop's reward rule (what users did, sent or not).",
            new SvgLineChart { Id = "mean-reward", Label = "Mean reward per decision", XMin = 1, XMax = o.Days, XTicks = ticks, IncludeZero = false, FormatY = y => SvgLineChart.Number(y, "0.0##") },
            result.Products.Select((p, i) => new ChartSeries(p.Spec.Name, Color(i), WeeklyReward(p), Markers(p))).ToList());
        Chart(html, "Share of the possible lift reached",
            "The world's truth, weekly: how far the served items' expected reward got from a random pick (0%) towards a perfect model (100%). Only a simulation can know this.",
            new SvgLineChart { Id = "lift-share", Label = "Share of the possible lift reached", XMin = 1, XMax = o.Days, XTicks = ticks, FormatY = y => SvgLineChart.Number(y, "0%") },
            result.Products.Select((p, i) => new ChartSeries(p.Spec.Name, Color(i), WeeklyLiftShare(p), [])).ToList());

        MonthTable(html, result);
        var ledgerProduct = result.Products.FirstOrDefault(p => p.Spec.Key == "a") ?? result.Products.FirstOrDefault();
        if (ledgerProduct is not null)
        {
            Ledger(html, ledgerProduct);
        }

        html.Append("<footer>\n")
            .Append(Inv, $"<p>Made by <code>{Html.Encode(command)}</code>: a seeded world with known truth on a fake clock, driving the real Flywheel engine and store. The same command always writes the same page.</p>\n")
            .Append("<p>Every figure but the lift share comes from what the products logged; the lift share needs the world's truth.</p>\n")
            .Append("</footer>\n</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static void Chart(StringBuilder html, string title, string caption, SvgLineChart chart, IReadOnlyList<ChartSeries> series)
        => html.Append("<section class=\"figure\">\n")
            .Append(Inv, $"<h2>{Html.Encode(title)}</h2>\n<p class=\"caption\">{Html.Encode(caption)}</p>\n")
            .Append(chart.Render(series)).Append("\n</section>\n");

    /// <summary>Trailing 7-day mean of daily active users over launched days.</summary>
    internal static IReadOnlyList<ChartPoint> ActiveUsers(ProductResult product)
    {
        var launched = product.Days.Where(d => d.Launched).ToList();
        var points = new List<ChartPoint>(launched.Count);
        for (var i = 0; i < launched.Count; i++)
        {
            double sum = 0;
            var count = 0;
            for (var j = i; j >= 0 && launched[j].Day > launched[i].Day - 7; j--)
            {
                sum += launched[j].ActiveUsers;
                count++;
            }
            points.Add(new ChartPoint(launched[i].Day, sum / count));
        }
        return points;
    }

    /// <summary>Sum of rewards over sum of decisions per 7-day block of launched days with decisions.</summary>
    internal static IReadOnlyList<ChartPoint> WeeklyReward(ProductResult product)
        => Weeks(product)
            .Select(w => (X: Center(w), Y: w.Sum(d => d.RewardSum) / w.Sum(d => d.Decisions)))
            .Where(p => double.IsFinite(p.Y))
            .Select(p => new ChartPoint(p.X, p.Y))
            .ToList();

    /// <summary>(served − uniform) / (oracle − uniform) of the expected rewards per 7-day block.</summary>
    internal static IReadOnlyList<ChartPoint> WeeklyLiftShare(ProductResult product)
    {
        var points = new List<ChartPoint>();
        foreach (var w in Weeks(product))
        {
            var possible = w.Sum(d => d.OracleRewardSum) - w.Sum(d => d.UniformRewardSum);
            var reached = w.Sum(d => d.ExpectedRewardSum) - w.Sum(d => d.UniformRewardSum);
            if (possible > 1e-12 && double.IsFinite(reached / possible))
            {
                points.Add(new ChartPoint(Center(w), reached / possible));
            }
        }
        return points;
    }

    private static IEnumerable<List<ProductDay>> Weeks(ProductResult product)
        => product.Days.Where(d => d.Launched && d.Decisions > 0)
            .GroupBy(d => (d.Day - 1) / 7)
            .OrderBy(g => g.Key)
            .Select(g => g.OrderBy(d => d.Day).ToList());

    private static double Center(List<ProductDay> days) => (days[0].Day + days[^1].Day) / 2.0;

    /// <summary>Promotions and rollbacks in the product's turn ledger.</summary>
    internal static IReadOnlyList<ChartMarker> Markers(ProductResult product)
    {
        var markers = new List<ChartMarker>();
        foreach (var (day, turn) in product.Turns)
        {
            var verdict = LoopConfigJson.Name(turn.Verdict);
            var when = $"day {day}, {Date(day)}";
            if (turn.Verdict is TurnVerdict.Promoted or TurnVerdict.ManuallyPromoted or TurnVerdict.Graduated)
            {
                var version = turn.DeployedVersion is { } v ? $" v{v}" : "";
                markers.Add(new ChartMarker(day, MarkerKind.Promoted, $"{product.Spec.Name}: turn {turn.Number} {verdict}{version} ({when})"));
            }
            else if (turn.Verdict == TurnVerdict.RolledBack)
            {
                var to = turn.DeployedVersion is { } v ? $" to v{v}" : "";
                markers.Add(new ChartMarker(day, MarkerKind.RolledBack, $"{product.Spec.Name}: turn {turn.Number} rolled back v{turn.ChampionVersion}{to} ({when})"));
            }
        }
        return markers;
    }

    private static void MonthTable(StringBuilder html, SimulationResult result)
    {
        html.Append("<section>\n<h2>Month by month</h2>\n")
            .Append("<p class=\"caption\">Monthly active users, mean reward per decision with its 95% interval, the model serving at the month's end and the turns that promoted a model.</p>\n")
            .Append("<div class=\"scroll\"><table class=\"months\" data-table=\"months\">\n<thead>\n<tr><th rowspan=\"2\">Month</th>");
        for (var i = 0; i < result.Products.Count; i++)
        {
            html.Append(Inv, $"<th colspan=\"4\" class=\"group\"><span class=\"swatch\" style=\"background:{Color(i)}\"></span>{Html.Encode(result.Products[i].Spec.Name)}</th>");
        }
        html.Append("</tr>\n<tr>");
        for (var i = 0; i < result.Products.Count; i++)
        {
            html.Append("<th class=\"first\">users</th><th>reward</th><th>model</th><th>promoted</th>");
        }
        html.Append("</tr>\n</thead>\n<tbody>\n");
        for (var m = 1; m <= result.MonthCount; m++)
        {
            html.Append(Inv, $"<tr><th scope=\"row\">{SimulationCalendar.MonthName(m)}</th>");
            foreach (var product in result.Products)
            {
                var month = product.Months.FirstOrDefault(x => x.Month == m);
                if (month is null || !month.Launched)
                {
                    html.Append("<td class=\"first none\">–</td><td class=\"none\">–</td><td class=\"none\">–</td><td class=\"none\">–</td>");
                    continue;
                }
                var reward = month.MeanReward is { } r
                    ? r.IsBounded
                        ? $"{F(r.Value, "0.000")}<span class=\"ci\">{F(r.Lower, "0.000")} – {F(r.Upper, "0.000")}</span>"
                        : F(r.Value, "0.000")
                    : "–";
                var model = month.ModelVersion is { } v ? $"v{v}" : "–";
                html.Append(Inv, $"<td class=\"first\">{month.ActiveUsers:#,0}</td><td>{reward}</td><td>{model}</td><td>{month.TurnsPromoted}</td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</tbody>\n</table></div>\n</section>\n");
    }

    private static void Ledger(StringBuilder html, ProductResult product)
    {
        var name = Html.Encode(product.Spec.Name);
        html.Append(Inv, $"<section>\n<h2>The turn ledger of {name}</h2>\n")
            .Append(Inv, $"<p class=\"caption\">Every turn {name}'s engine ran: what started it, the verdict, the champion it judged and the model that served after it, with the engine's own reason.</p>\n")
            .Append("<div class=\"scroll\"><table class=\"ledger\" data-table=\"ledger\">\n<thead><tr><th>#</th><th>day</th><th>date</th><th>trigger</th><th>verdict</th><th>champion</th><th>deployed</th><th>reason</th></tr></thead>\n<tbody>\n");
        if (product.Turns.Count == 0)
        {
            html.Append("<tr><td colspan=\"8\" class=\"none\">No turns.</td></tr>\n");
        }
        foreach (var (day, turn) in product.Turns)
        {
            var verdict = LoopConfigJson.Name(turn.Verdict);
            var deployed = turn.DeployedVersion is { } v ? $"v{v}" : "–";
            html.Append(Inv, $"<tr><td>{turn.Number}</td><td>{day}</td><td class=\"date\">{SimulationCalendar.DateOf(day).ToString("yyyy-MM-dd", Inv)}</td>")
                .Append(Inv, $"<td>{LoopConfigJson.Name(turn.Trigger)}</td><td><span class=\"verdict {verdict}\">{verdict}</span></td>")
                .Append(Inv, $"<td>v{turn.ChampionVersion}</td><td>{deployed}</td><td class=\"reason\">{Html.Encode(turn.Reason)}</td></tr>\n");
        }
        html.Append("</tbody>\n</table></div>\n</section>\n");
    }

    /// <summary>X ticks at each month's first day, thinned to at most thirteen; January carries the year.</summary>
    private static IReadOnlyList<(double X, string Label)> MonthTicks(int days)
    {
        var months = SimulationCalendar.MonthOf(days);
        var every = Math.Max(1, (int)Math.Ceiling(months / 13.0));
        var ticks = new List<(double, string)>();
        for (var m = 1; m <= months; m += every)
        {
            var first = SimulationCalendar.Start.AddMonths(m - 1);
            var day = SimulationCalendar.DayOf(first);
            ticks.Add((day, first.ToString(first.Month == 1 ? "MMM yyyy" : "MMM", Inv)));
        }
        return ticks;
    }

    private static string Color(int index) => Colors[index % Colors.Length];

    private static string Date(int day) => SimulationCalendar.DateOf(day).ToString("d MMM yyyy", Inv);

    private static string F(double value, string format) => SvgLineChart.Number(value, format);

    private static string Count(int n) => n >= 0 && n < CountWords.Length ? CountWords[n] : n.ToString(Inv);

    private static string Duration(int days) => days switch
    {
        365 => "one year",
        730 => "two years",
        1 => "one day",
        _ => $"{days.ToString(Inv)} days",
    };

    private const string Css = """
        :root { color-scheme: light; --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --soft: #f9fafb; }
        * { box-sizing: border-box; }
        body { margin: 0; background: #fff; color: var(--ink); font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
        main { max-width: 1100px; margin: 0 auto; padding: 40px 24px 56px; }
        .kicker { margin: 0; color: var(--muted); font-size: 13px; letter-spacing: .08em; text-transform: uppercase; }
        h1 { margin: 4px 0 6px; font-size: 32px; line-height: 1.2; letter-spacing: -.01em; }
        h2 { margin: 40px 0 2px; font-size: 20px; }
        .meta { margin: 0 0 14px; color: var(--muted); }
        .scenario { margin: 0 0 12px; }
        .products { list-style: none; margin: 0; padding: 0; }
        .products li { margin: 4px 0; }
        .products b { margin-right: 4px; }
        .launch { color: var(--muted); }
        .swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; margin-right: 8px; vertical-align: -1px; }
        .summary { margin-top: 22px; padding: 14px 20px; background: var(--soft); border-left: 4px solid #2563eb; border-radius: 4px; }
        .summary p { margin: 8px 0; }
        .caption { margin: 0 0 8px; color: var(--muted); font-size: 14px; }
        svg.chart { display: block; width: 100%; height: auto; font-size: 12px; font-family: inherit; }
        svg.chart .grid line { stroke: var(--line); stroke-width: 1; }
        svg.chart .grid line.x-grid { stroke: #f1f3f5; }
        svg.chart .grid line.axis { stroke: #9ca3af; }
        svg.chart text { fill: var(--muted); }
        svg.chart path.series { stroke-width: 2.25; stroke-linejoin: round; stroke-linecap: round; }
        svg.chart .turn-marker { stroke: #fff; stroke-width: 2; }
        svg.chart .legend line { stroke-width: 3; stroke-linecap: round; }
        svg.chart .legend text { fill: var(--ink); font-size: 13px; }
        svg.chart .legend-marker { fill: #6b7280; stroke: #fff; stroke-width: 1.5; }
        svg.chart .legend-marker text { stroke: none; fill: var(--ink); }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; font-size: 13.5px; font-variant-numeric: tabular-nums; }
        th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top; white-space: nowrap; }
        thead th { font-weight: 600; color: var(--muted); border-bottom: 1px solid #d1d5db; }
        thead th.group { text-align: center; color: var(--ink); border-bottom: 1px solid var(--line); }
        th.first, td.first { border-left: 1px solid var(--line); }
        tbody th { text-align: left; font-weight: 500; }
        tbody tr:hover { background: var(--soft); }
        td.none { color: #c0c4cc; }
        .ci { display: block; color: var(--muted); font-size: 11.5px; }
        table.ledger th, table.ledger td { text-align: left; }
        table.ledger td.reason { white-space: normal; overflow-wrap: anywhere; min-width: 320px; color: #374151; }
        .verdict { display: inline-block; padding: 1px 8px; border-radius: 999px; background: #f3f4f6; color: #374151; font-size: 12px; }
        .verdict.promoted, .verdict.manually-promoted, .verdict.graduated { background: #dcfce7; color: #166534; }
        .verdict.rolled-back { background: #fee2e2; color: #991b1b; }
        .verdict.rejected { background: #fef3c7; color: #92400e; }
        footer { margin-top: 48px; padding-top: 16px; border-top: 1px solid var(--line); color: var(--muted); font-size: 13px; }
        footer p { margin: 4px 0; }
        code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; background: #f3f4f6; padding: 1px 5px; border-radius: 4px; color: var(--ink); }

        """;
}

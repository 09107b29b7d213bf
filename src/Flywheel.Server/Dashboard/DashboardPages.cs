using System.Text;
using static Flywheel.Server.Dashboard.Html;

namespace Flywheel.Server.Dashboard;

using HealthStatus = Flywheel.Core.HealthStatus;

/// <summary>The dashboard's pages as HTML strings: the loops with their verdicts, one loop in full, and not-found.</summary>
internal static class DashboardPages
{
    /// <summary>One row of the index: a loop of a store and its verdict (or why there is none).</summary>
    public sealed record LoopRow(DashboardSource Source, string Loop, HealthReport? Health, string? Error);

    public static string Index(IReadOnlyList<LoopRow> rows, string servedName, int refreshSeconds)
    {
        var b = new StringBuilder();
        b.Append("<h1>Flywheel</h1><p class=\"muted\">Is each wheel spinning? Every loop with its verdict and the figure behind it. ")
            .Append("The verdicts are defined in the health report (<code>GET /v1/loops/{loop}/health</code>).</p>");
        var stores = rows.Select(r => r.Source.Name).Distinct(StringComparer.Ordinal).Count();
        b.Append("<div class=\"card\" style=\"margin-top:12px\"><table data-table=\"loops\"><thead><tr>");
        if (stores > 1 || rows.Any(r => r.Source.Name.Length > 0))
        {
            b.Append("<th>Store</th>");
        }
        b.Append("<th>Loop</th><th>Verdict</th><th>Evidence</th><th class=\"num\">Decisions</th></tr></thead><tbody>");
        foreach (var row in rows)
        {
            b.Append($"<tr data-loop=\"{E(row.Loop)}\" data-store=\"{E(row.Source.Name)}\">");
            if (stores > 1 || rows.Any(r => r.Source.Name.Length > 0))
            {
                b.Append($"<td>{(row.Source.Name.Length == 0 ? E(servedName) : E(row.Source.Name))}</td>");
            }
            b.Append($"<td><a href=\"{E(LoopLink(row.Source, row.Loop))}\">{E(row.Loop)}</a></td>");
            if (row.Health is { } h)
            {
                b.Append($"<td>{Badge(h.Verdict.Status)}</td><td class=\"evidence\">{E(h.Verdict.Evidence)}</td><td class=\"num\">{N(h.Evidence.Decisions)}</td>");
            }
            else
            {
                b.Append($"<td><span class=\"badge\">unknown</span></td><td class=\"evidence\">{E(row.Error)}</td><td></td>");
            }
            b.Append("</tr>");
        }
        if (rows.Count == 0)
        {
            b.Append("<tr><td colspan=\"5\" class=\"muted\">No loops yet: create one with <code>PUT /v1/loops/{loop}</code>.</td></tr>");
        }
        b.Append("</tbody></table></div>");
        return Page("Flywheel dashboard", b.ToString(), refreshSeconds);
    }

    public static string NotFound(string what) => Page(
        "Not found · Flywheel",
        $"<h1>Not found</h1><p data-not-found>{E(what)}</p><p><a href=\"/\">All loops</a></p>",
        0);

    public static string LinkTo(DashboardSource source, string loop) => LoopLink(source, loop);

    private static string LoopLink(DashboardSource source, string loop)
        => "/loops/" + U(loop) + (source.Name.Length == 0 ? "" : "?store=" + U(source.Name));

    public static string Loop(DashboardSource source, LoopConfig config, HealthReport h, IReadOnlyList<TurnRecord> turns, IReadOnlyList<SeriesPoint> series, int refreshSeconds)
    {
        var b = new StringBuilder();
        var storeNote = source.Name.Length == 0 ? "" : $" · store <b>{E(source.Name)}</b>";
        b.Append($"<p><a href=\"/\">← All loops</a>{storeNote}</p>");
        b.Append($"<h1 data-loop=\"{E(h.Loop)}\">{E(h.Loop)} {Badge(h.Verdict.Status)}</h1>");
        b.Append($"<p class=\"verdict\" data-verdict-evidence>{E(h.Verdict.Evidence)}</p>");
        b.Append($"<p class=\"advice\">{E(h.Verdict.Advice)}</p>");
        b.Append($"<p class=\"muted\">{N(h.Evidence.Decisions)} decisions, {N(h.Evidence.Rewards)} rewards, {N(h.Evidence.Signals)} signals, "
            + $"{Time(h.Evidence.Span.From)} to {Time(h.Evidence.Span.To)} · mode {E(Wire(h.Pipe.Mode))} · minimum felt effect {R(h.MinimumFeltEffect)} · report at {Time(h.GeneratedAt)}</p>");

        b.Append("<div class=\"grid\">");
        Card(b, "wheel", "The wheel", WheelSvg(h) + "<p class=\"muted\">Usage makes signals, signals teach the model, the model changes what users get. "
            + "A dashed red arrow is the link the verdict blames.</p>");
        Card(b, "reward", "Reward over time by model version", RewardChart(h, series));
        Card(b, "capture", "Capture rate", CaptureChart(h, series));
        Card(b, "learning-curve", "Learning curve", LearningCurveChart(h));
        Card(b, "drift", "Staleness and drift", DriftSection(h));
        Card(b, "return", "Return and streaks", ReturnSection(h));
        if (h.Generation is { } generation)
        {
            Card(b, "generation", "What users did with the outputs", GenerationSection(generation));
        }
        b.Append("</div>");

        b.Append("<div class=\"card\" style=\"margin-top:16px\" data-card=\"ledger\"><h2>Turn ledger</h2>");
        b.Append(Ledger(h, turns));
        b.Append("</div>");
        _ = config;
        return Page($"{h.Loop} · Flywheel", b.ToString(), refreshSeconds);
    }

    private static void Card(StringBuilder b, string id, string title, string body)
        => b.Append($"<section class=\"card\" data-card=\"{id}\"><h2>{E(title)}</h2>{body}</section>");

    private static string WheelSvg(HealthReport h)
    {
        var span = h.Evidence.Span;
        var hours = span.From is { } f && span.To is { } t ? (t - f).TotalHours : 0;
        var usage = ($"{N(span.Decisions)} decisions", hours > 0 ? $"{F(span.Decisions / hours, "0.#")} per hour" : "");
        var latency = h.Latency.Online is { } online
            ? $"latency {Duration(online.MedianSeconds)} (median)"
            : h.Latency.Turns.Count > 0 ? $"latency {Duration(Median(h.Latency.Turns.Select(x => x.Seconds)))} per turn" : "latency not measured yet";
        string lift, liftDetail;
        if (h.Lift.Learning is { } learning)
        {
            (lift, liftDetail) = ($"lift {Signed(learning.Difference.Value)}", $"95% {Interval(learning.Difference)}");
        }
        else if (h.Lift.Turns.LastOrDefault(x => x.Difference is not null) is { Difference: { } d } turn)
        {
            (lift, liftDetail) = ($"lift {Signed(d.Value)}", $"turn {turn.Turn.ToString(C)}, {turn.Status}");
        }
        else
        {
            (lift, liftDetail) = ("lift –", "not measured yet");
        }
        var status = h.Verdict.Status;
        return Svg.Wheel(
            usage,
            new WheelArrow("capture", $"{P(h.Capture.Rate.Value)} captured", $"{P(h.Capture.Implicit.Value)} implicit · {P(h.Capture.Explicit.Value)} explicit", status == HealthStatus.NoSignal),
            new WheelArrow("learning", $"{N(h.Pipe.ModelExamples)} examples learned", latency, status == HealthStatus.NoPipe),
            new WheelArrow("felt lift", lift, liftDetail, status is HealthStatus.Invisible or HealthStatus.Plateau or HealthStatus.Stale));
    }

    private static string RewardChart(HealthReport h, IReadOnlyList<SeriesPoint> series)
    {
        List<ChartSeries> lines;
        string note;
        if (series.Count > 0)
        {
            lines = [.. series.GroupBy(p => p.Version).OrderBy(g => g.Key).Select((g, i) => new ChartSeries(
                $"v{g.Key.ToString(C)}", Svg.Palette[i % Svg.Palette.Length], [.. g.Select(p => ((double)p.At.UtcTicks, p.MeanReward))]))];
            note = $"Mean reward of closed decisions in {RewardSeries.Buckets.ToString(C)} equal time buckets, one line per model version that served them.";
        }
        else
        {
            // Without the log (another store kind), the report's age buckets still show the trend.
            lines = [new ChartSeries("all versions", Svg.Palette[0], [.. h.Staleness.ByAge
                .Where(a => a.Window.From is not null && a.Window.To is not null && double.IsFinite(a.MeanReward.Value))
                .Select(a => ((double)(a.Window.From!.Value.UtcTicks + ((a.Window.To!.Value.UtcTicks - a.Window.From.Value.UtcTicks) / 2)), a.MeanReward.Value))
                .OrderBy(p => p.Item1)])];
            note = "Mean reward by age of the data (the health report's age buckets).";
        }
        var range = h.Evidence.Span;
        var x = TimeLabel(range.From, range.To);
        var chart = Svg.Line("reward", lines, x, v => R(v), "decision time (UTC)", "mean reward");
        var turns = h.Lift.Turns.Count == 0 ? "" : "<p>Turn lifts: " + string.Join(", ", h.Lift.Turns.Select(t =>
            $"turn {t.Turn.ToString(C)} v{t.PredecessorVersion.ToString(C)}→v{t.Version.ToString(C)} {(t.Difference is { } d ? Signed(d.Value) + " " + Interval(d) : "–")} <i>{E(t.Status)}</i>")) + "</p>";
        return chart + $"<p class=\"muted\">{E(note)}</p>" + turns;
    }

    private static string CaptureChart(HealthReport h, IReadOnlyList<SeriesPoint> series)
    {
        var c = h.Capture;
        var byTime = series.GroupBy(p => p.At).OrderBy(g => g.Key).Select(g =>
        {
            var n = g.Sum(p => p.Decisions);
            return ((double)g.Key.UtcTicks, g.Sum(p => p.CaptureRate * p.Decisions) / Math.Max(1, n));
        }).ToList();
        string chart;
        if (byTime.Count > 0)
        {
            chart = Svg.Line("capture", [new ChartSeries("capture rate", Svg.Palette[1], byTime)], TimeLabel(h.Evidence.Span.From, h.Evidence.Span.To), v => P(v), "decision time (UTC)", "share with a signal", yMin: 0, yMax: 1);
        }
        else
        {
            chart = Svg.Bars("capture", [
                new ChartBar("any", c.Rate.Value, P(c.Rate.Value)),
                new ChartBar("implicit", c.Implicit.Value, P(c.Implicit.Value)),
                new ChartBar("explicit", c.Explicit.Value, P(c.Explicit.Value), "alt")], 1, "share of decisions");
        }
        return chart
            + $"<p><b>{P(c.Rate.Value)}</b> {E(Interval95(c.Rate, percent: true))} of {N(c.Window.Decisions)} closed decisions got a signal; implicit {P(c.Implicit.Value)}, explicit {P(c.Explicit.Value)}; "
            + $"{N(c.LateSignals)} late and {N(c.OrphanedSignals)} orphaned signals. Fuel: {(h.Fuel.ExamplesPerHour is { } e ? F(e, "0.#") : "–")} examples/hour, {F(h.Fuel.SignalsPerDecision, "0.##")} signals per decision.</p>"
            + $"<p class=\"muted\">{E(c.Definition)}</p>";
    }

    private static string LearningCurveChart(HealthReport h)
    {
        var lc = h.LearningCurve;
        var points = lc.Points.Where(p => p.Examples > 0).ToList();
        var lines = new List<ChartSeries> { new("mean reward", Svg.Palette[0], [.. points.Select(p => (p.Examples, p.MeanReward.Value))]) };
        if (lc.Fit is { } fit && points.Count > 0)
        {
            // The fit is of loss = reward.max − mean reward; each point carries both, so reward.max = reward + loss.
            var max = points[0].MeanReward.Value + points[0].Loss;
            var lo = Math.Log10(points.Min(p => p.Examples));
            var hi = Math.Log10(points.Max(p => p.Examples) * 2);
            var curve = Enumerable.Range(0, 41).Select(i => Math.Pow(10, lo + ((hi - lo) * i / 40)))
                .Select(n => (n, max - ((fit.A * Math.Pow(n, -fit.B)) + fit.C))).ToList();
            lines.Add(new ChartSeries("fit a·n^(−b) + c", "#c0392b", curve, "fit", Markers: false));
        }
        var chart = Svg.Line("learning-curve", lines, v => Compact(v), v => R(v), "examples learned (log scale)", "mean reward", logX: true);
        var fitText = lc.Fit is { } f2
            ? $"Fit: loss = {F(f2.A, "0.###")}·n^(−{F(f2.B, "0.###")}) + {F(f2.C, "0.###")} (RMS residual {F(f2.Residual, "0.####")}). "
            : "No fit yet (it needs 4 points). ";
        var doubling = lc.DoublingGain is { } g ? $"Doubling the data is predicted to gain {Signed(g)} mean reward" + (lc.Plateau == true ? ": below what users can feel (plateau)." : ".") : "";
        return chart + $"<p>{E(fitText + doubling)}</p><p class=\"muted\">{E(lc.Definition)}</p>";
    }

    private static string DriftSection(HealthReport h)
    {
        var s = h.Staleness;
        var b = new StringBuilder();
        b.Append("<h3>Mean reward by age of the data</h3>");
        b.Append(Svg.Bars("by-age", [.. s.ByAge.Reverse().Select(a => new ChartBar(a.Label, a.MeanReward.Value, R(a.MeanReward.Value)))],
            Math.Max(1e-9, s.ByAge.Select(a => double.IsFinite(a.MeanReward.Value) ? Math.Abs(a.MeanReward.Value) : 0).DefaultIfEmpty(0).Max() * 1.15), "mean reward"));
        var d = s.Drift;
        b.Append($"<p>Reward PSI {(s.RewardPsi is { } psi ? F(psi, "0.###") : "–")} · Page–Hinkley alarms <b data-figure=\"alarms\">{N(d.Alarms)}</b>");
        if (d.LastAlarmAt is { } at)
        {
            b.Append($", the last at {Time(at)}");
        }
        if (d.Change is { } change)
        {
            b.Append($"; reward {R(change.BeforeReward.Value)} → {R(change.AfterReward.Value)} ({Signed(change.Difference.Value)} {Interval(change.Difference)})");
        }
        b.Append(d.Stale ? " · <b>stale</b>" : "").Append("</p>");
        b.Append("<h3>Features that moved most (PSI)</h3>");
        var top = s.FeaturePsi.Take(8).ToList();
        if (top.Count == 0)
        {
            b.Append("<p class=\"muted\">Not enough decisions to compare contexts yet.</p>");
        }
        else
        {
            b.Append("<table data-table=\"features\"><thead><tr><th>Feature</th><th class=\"num\">PSI</th><th>Reading</th></tr></thead><tbody>");
            foreach (var feature in top)
            {
                var reading = feature.Psi switch { < 0.1 => "stable", < 0.25 => "some change", _ => "shifted" };
                b.Append($"<tr><td>{E(feature.Feature)}</td><td class=\"num\">{F(feature.Psi, "0.###")}</td><td>{reading}</td></tr>");
            }
            b.Append("</tbody></table>");
        }
        b.Append($"<p class=\"muted\">{E(s.Definition)}</p>");
        return b.ToString();
    }

    private static string ReturnSection(HealthReport h)
    {
        var r = h.Return;
        var b = new StringBuilder();
        b.Append(Svg.Bars("return", [
            new ChartBar("1 day", r.Within1Day.Rate.Value, P(r.Within1Day.Rate.Value)),
            new ChartBar("7 days", r.Within7Days.Rate.Value, P(r.Within7Days.Rate.Value)),
            new ChartBar("30 days", r.Within30Days.Rate.Value, P(r.Within30Days.Rate.Value))], 1, "share of visit days"));
        b.Append($"<p>{N(r.Users)} users; visit days counted: {N(r.Within1Day.Visits)} (1 day), {N(r.Within7Days.Visits)} (7 days), {N(r.Within30Days.Visits)} (30 days).</p>");
        b.Append("<h3>Longest streak of daily use</h3>");
        var most = r.Streaks.Select(x => x.Users).DefaultIfEmpty(0).Max();
        b.Append(Svg.Bars("streaks", [.. r.Streaks.Select(x => new ChartBar(x.Days + " d", x.Users, N(x.Users), "alt"))], Math.Max(1, most) * 1.15, "users"));
        b.Append($"<p class=\"muted\">{E(r.Definition)}</p>");
        return b.ToString();
    }

    private static string GenerationSection(GenerationHealth g)
    {
        var b = new StringBuilder();
        b.Append($"<p>{N(g.Outputs)} outputs stored, {N(g.Judged)} judged · mean edit distance <b data-figure=\"edit-distance\">{R(g.EditDistance.Value)}</b> {Interval95(g.EditDistance, percent: false)} · "
            + $"kept without edits <b data-figure=\"kept-unedited\">{P(g.KeptUnedited.Value)}</b> {Interval95(g.KeptUnedited, percent: true)} · regenerated {P(g.Regenerated.Value)}</p>");
        if (g.Periods.Count == 0)
        {
            b.Append("<p class=\"muted\">Not enough judged outputs to show a trend yet.</p>");
        }
        else
        {
            b.Append("<h3>Mean edit distance over time</h3>");
            b.Append(Svg.Bars("edit-distance", [.. g.Periods.Select(p => new ChartBar(p.Window.To is { } to ? to.UtcDateTime.ToString("MM-dd", C) : "–", p.EditDistance.Value, R(p.EditDistance.Value)))], 1, "edit distance"));
        }
        b.Append("<table data-table=\"generation-versions\"><thead><tr><th>Model</th><th class=\"num\">Judged</th><th class=\"num\">Edit distance</th><th class=\"num\">Kept unedited</th><th class=\"num\">Δ distance</th></tr></thead><tbody>");
        foreach (var t in g.Turns)
        {
            var turn = t.Turn is { } n ? $" <span class=\"muted\">turn {n.ToString(C)}</span>" : "";
            var change = t.EditDistanceChange is { } d ? $"{Signed(d.Value)} <span class=\"muted\">{Interval(d)}</span>" : "";
            b.Append($"<tr><td>v{t.Version.ToString(C)}{turn}</td><td class=\"num\">{N(t.Window.Decisions)}</td><td class=\"num\">{R(t.EditDistance.Value)}</td><td class=\"num\">{P(t.KeptUnedited.Value)}</td><td class=\"num\">{change}</td></tr>");
        }
        b.Append("</tbody></table>");
        b.Append($"<p class=\"muted\">{E(g.Definition)}</p>");
        return b.ToString();
    }

    private static string Ledger(HealthReport h, IReadOnlyList<TurnRecord> turns)
    {
        if (turns.Count == 0)
        {
            return "<table data-table=\"ledger\"><tbody></tbody></table><p class=\"muted\">No turns yet: the first runs once the loop has enough decisions.</p>";
        }
        var lifts = h.Lift.Turns.ToDictionary(t => t.Turn);
        var b = new StringBuilder("<table data-table=\"ledger\"><thead><tr><th class=\"num\">#</th><th>Trigger</th><th>Finished</th><th>Verdict</th><th>Reason</th><th class=\"num\">Deployed</th><th class=\"num\">Lift</th></tr></thead><tbody>");
        foreach (var t in turns.OrderByDescending(t => t.Number))
        {
            var lift = lifts.TryGetValue(t.Number, out var l) && l.Difference is { } d ? $"{Signed(d.Value)} <span class=\"muted\">{E(l.Status)}</span>" : "";
            b.Append($"<tr data-turn=\"{t.Number.ToString(C)}\"><td class=\"num\">{t.Number.ToString(C)}</td><td>{E(Wire(t.Trigger))}</td><td>{Time(t.FinishedAt)}</td>"
                + $"<td>{E(Wire(t.Verdict))}</td><td>{E(t.Reason)}</td><td class=\"num\">{(t.DeployedVersion is { } v ? "v" + v.ToString(C) : "")}</td><td class=\"num\">{lift}</td></tr>");
        }
        return b.Append("</tbody></table>").ToString();
    }

    private static Func<double, string> TimeLabel(DateTimeOffset? from, DateTimeOffset? to)
    {
        var span = from is { } f && to is { } t ? t - f : TimeSpan.Zero;
        var format = span.TotalDays > 2 ? "yyyy-MM-dd" : "MM-dd HH:mm";
        return ticks => new DateTime((long)Math.Clamp(ticks, DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks), DateTimeKind.Utc).ToString(format, C);
    }

    private static string Compact(double n) => n switch
    {
        >= 1e6 => F(n / 1e6, "0.#") + "M",
        >= 1e3 => F(n / 1e3, "0.#") + "k",
        _ => F(n, "0"),
    };

    private static string Interval95(Estimate e, bool percent)
        => e.IsBounded ? (percent ? $"[{P(e.Lower)}, {P(e.Upper)}]" : Interval(e)) : "";

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

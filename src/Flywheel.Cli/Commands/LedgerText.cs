using System.Globalization;
using System.Text;
using Flywheel.Core;

namespace Flywheel.Cli.Commands;

/// <summary>Readable text of the turn ledger, the model registry and shadow reports, for <c>turns</c> and <c>models</c>.</summary>
internal static class LedgerText
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>
    /// The ledger as a table: one row per entry (number, trigger, verdict, champion, deployed version, finish time),
    /// then its reason, the evidence it judged (the window, what began it, the rewards new since the previous turn), its
    /// online lift when measured, and each evaluated policy's DR estimate with its interval and effective sample size,
    /// with the warnings of estimates that rest on one decision.
    /// </summary>
    public static void WriteTurns(TextWriter output, IReadOnlyList<TurnRecord> turns)
    {
        var rows = new List<string[]> { new[] { "turn", "trigger", "verdict", "champion", "deployed", "finished" } };
        rows.AddRange(turns.Select(Header));
        var widths = Widths(rows);
        output.WriteLine(Row(rows[0], widths));
        for (var i = 0; i < turns.Count; i++)
        {
            output.WriteLine(Row(rows[i + 1], widths));
            WriteDetails(output, turns[i], "      ");
        }
        output.Flush();
    }

    /// <summary>One ledger entry, as <see cref="WriteTurns"/> prints it.</summary>
    public static void WriteTurn(TextWriter output, TurnRecord turn) => WriteTurns(output, [turn]);

    private static string[] Header(TurnRecord t) =>
    [
        t.Number.ToString(C),
        LoopConfigJson.Name(t.Trigger),
        LoopConfigJson.Name(t.Verdict),
        $"v{t.ChampionVersion.ToString(C)}",
        t.DeployedVersion is { } d ? $"v{d.ToString(C)}" : "-",
        Time(t.FinishedAt),
    ];

    private static void WriteDetails(TextWriter output, TurnRecord turn, string indent)
    {
        output.WriteLine($"{indent}reason: {turn.Reason}");
        if (turn.Window is { Decisions: > 0 } w)
        {
            var range = w.From is { } from && w.To is { } to ? $", made {Time(from)} to {Time(to)}" : "";
            var since = turn.EvidenceSince is { } s ? $" since {s}" : "";
            var fresh = turn.NewDecisions is { } n ? string.Create(C, $"; {n:N0} new since the previous turn") : "";
            output.WriteLine(string.Create(C, $"{indent}window: {w.Decisions:N0} rewarded decisions{since} (rewards {w.AfterSequence + 1:N0} to {w.ThroughSequence:N0}){range}{fresh}"));
        }
        if (turn.Lift is { } lift)
        {
            output.WriteLine(string.Create(C,
                $"{indent}online lift: v{lift.Version} {Number(lift.Mean)} over {lift.Decisions:N0} decisions vs v{lift.PredecessorVersion} {Number(lift.PredecessorMean)} over {lift.PredecessorDecisions:N0}: {Signed(lift.Difference.Value)} {Interval(lift.Difference)}"));
        }
        if (turn.Candidates.Count == 0)
        {
            return;
        }
        var rows = new List<string[]> { new[] { "policy", "version", "n", "DR", "interval", "ESS" } };
        foreach (var c in turn.Candidates)
        {
            rows.Add(
            [
                c.Name,
                c.Version is { } v ? $"v{v.ToString(C)}" : "-",
                c.Estimates.Count.ToString("N0", C),
                Number(c.Estimates.Dr.Value),
                Interval(c.Estimates.Dr),
                double.IsFinite(c.Estimates.EffectiveSampleSize) ? c.Estimates.EffectiveSampleSize.ToString("N0", C) : "n/a",
            ]);
        }
        var widths = Widths(rows);
        foreach (var row in rows)
        {
            output.WriteLine(indent + Row(row, widths));
        }
        foreach (var c in turn.Candidates)
        {
            foreach (var warning in c.Estimates.Warnings)
            {
                output.WriteLine($"{indent}warning, {c.Name}{(c.Version is { } v ? $" (v{v.ToString(C)})" : "")}: {warning}");
            }
        }
    }

    /// <summary>The registry as a table: version, status, parent, turn, training window, DR estimate and interval, created, reason.</summary>
    public static void WriteModels(TextWriter output, IReadOnlyList<ModelRecord> models)
    {
        var rows = new List<string[]> { new[] { "version", "status", "parent", "turn", "trained on", "DR", "interval", "created", "reason" } };
        foreach (var m in models)
        {
            rows.Add(
            [
                $"v{m.Version.ToString(C)}",
                LoopConfigJson.Name(m.Status),
                m.ParentVersion is { } p ? $"v{p.ToString(C)}" : "-",
                m.Turn is { } t ? t.ToString(C) : "-",
                m.Window is { } w ? string.Create(C, $"{w.ThroughSequence:N0} rewards") : "-",
                m.Estimates is { } e ? Number(e.Dr.Value) : "-",
                m.Estimates is { } e2 ? Interval(e2.Dr) : "-",
                Time(m.CreatedAt),
                m.Reason ?? "",
            ]);
        }
        var widths = Widths(rows);
        foreach (var row in rows)
        {
            output.WriteLine(Row(row, widths));
        }
        output.Flush();
    }

    /// <summary>
    /// A shadow's report: rewarded decisions scored, agreements and rate, the served mean, IPS (and its
    /// Clopper–Pearson interval when there is one) and SNIPS with their intervals, then the mismatch count.
    /// </summary>
    public static void WriteShadowReport(TextWriter output, ShadowReport report)
    {
        output.WriteLine(string.Create(C, $"shadow v{report.Version} of loop '{report.Loop}'"));
        output.WriteLine(string.Create(C, $"  decisions:   {report.Decisions:N0} rewarded decisions scored"));
        var rate = double.IsFinite(report.AgreementRate) ? report.AgreementRate.ToString("P1", C) : "n/a";
        output.WriteLine(string.Create(C, $"  agreements:  {report.Agreements:N0} ({rate} served the same action)"));
        output.WriteLine($"  served mean: {Number(report.ServedMean)}");
        if (report.Estimates is { } e)
        {
            output.WriteLine($"  IPS:         {Number(e.Ips.Value)} {Interval(e.Ips)}");
            if (e.IpsClopperPearson is { } cp)
            {
                output.WriteLine($"  IPS (CP):    {Number(cp.Value)} {Interval(cp)}");
            }
            output.WriteLine($"  SNIPS:       {Number(e.Snips.Value)} {Interval(e.Snips)}");
        }
        else
        {
            output.WriteLine("  IPS, SNIPS:  n/a (no rewarded decision scored yet)");
        }
        output.WriteLine(string.Create(C, $"  mismatches:  {report.Mismatches:N0}"));
        output.Flush();
    }

    /// <summary>Mismatches as a table: decision, time, shadow version, served action, the shadow's action, reward, the side shown wrong.</summary>
    public static void WriteMismatches(TextWriter output, IReadOnlyList<Mismatch> mismatches)
    {
        var rows = new List<string[]> { new[] { "decision", "made", "shadow", "served", "shadow chose", "reward", "wrong" } };
        foreach (var m in mismatches)
        {
            rows.Add(
            [
                m.DecisionId,
                Time(m.At),
                $"v{m.Version.ToString(C)}",
                m.ServedActionId,
                m.ShadowActionId,
                Number(m.Reward),
                m.Wrong == MismatchSide.Served ? "served" : "shadow",
            ]);
        }
        var widths = Widths(rows);
        foreach (var row in rows)
        {
            output.WriteLine(Row(row, widths));
        }
        output.Flush();
    }

    private static int[] Widths(List<string[]> rows)
    {
        var widths = new int[rows[0].Length];
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }
        return widths;
    }

    private static string Row(string[] cells, int[] widths)
    {
        var line = new StringBuilder();
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                line.Append("  ");
            }
            line.Append(i == cells.Length - 1 ? cells[i] : cells[i].PadRight(widths[i]));
        }
        return line.ToString().TrimEnd();
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", C);

    private static string Number(double x) => double.IsFinite(x) ? x.ToString("F4", C) : "n/a";

    private static string Signed(double x) => double.IsFinite(x) ? x.ToString("+0.0000;-0.0000;0.0000", C) : "n/a";

    private static string Interval(Estimate e) => $"[{Number(e.Lower)}, {Number(e.Upper)}]";
}

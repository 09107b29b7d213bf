using System.Globalization;
using System.Text;

namespace Flywheel.LoadTest;

/// <summary>Renders a <see cref="SoakReport"/> as a self-contained Markdown section.</summary>
internal static class SoakMarkdown
{
    private const double MiB = 1024.0 * 1024.0;

    public static string Render(SoakReport report)
    {
        var s = report.Settings;
        var v = report.Verdict;
        var t = report.Totals;
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"### Soak: {s.Minutes} min at {s.Fraction:0.##} × capacity (durability `{s.Durability}`, reward window {s.WindowSeconds:0.#} s)");
        sb.AppendLine();
        sb.AppendLine("| | |");
        sb.AppendLine("|---|---|");
        sb.AppendLine(c, $"| machine | {report.Machine.Cpu}, {report.Machine.Cores} cores shared by client and server, {report.Machine.Os}, {report.Machine.Runtime} |");
        sb.AppendLine(c, $"| src/ at | `{report.SourceCommit}` (the last commit that changed it) |");
        sb.AppendLine(c, $"| load average (1, 5, 15 min) | before {report.LoadBefore}; after {report.LoadAfter} |");
        sb.AppendLine(c, $"| run | {report.TotalSeconds / 60:0.0} min from server start to the last answer; {report.DataBytes / MiB:0} MiB of data left |");
        sb.AppendLine(c, $"| command | `{report.Command}` |");
        sb.AppendLine();
        if (report.Capacity is { } cap)
        {
            sb.AppendLine(c, $"**Capacity** (closed loop, {cap.Clients} clients each sending a decide then its signal batch, {cap.WarmupSeconds:0} s warm-up + {cap.MeasuredSeconds:0} s measured): **{cap.DecidesPerSecond:N0} decides/s** with {cap.SignalsPerSecond:N0} acknowledged signals/s; decide p50 {cap.Decide.P50Ms:0.00} ms, p99 {cap.Decide.P99Ms:0.00} ms; batch p99 {cap.Signals.P99Ms:0.00} ms; errors {cap.Errors}{(cap.ErrorKinds is null ? "" : $" ({cap.ErrorKinds})")}; turns during the phase (warm-up included) {cap.Turns:0}; CPU cores server / client / other / iowait {Cpu(cap.Cpu)}.");
        }
        else
        {
            sb.AppendLine(c, $"**Capacity** given on the command line: {report.CapacityDecidesPerSecond:N0} decides/s.");
        }
        sb.AppendLine();
        sb.AppendLine(c, $"**Soak** (open loop): {s.Fraction:0.##} × {report.CapacityDecidesPerSecond:N0} = **{report.TargetRate:N0} sessions/s**, each a decide ({report.AverageDecideBytes:0} bytes, 10 actions × 30 features, client-chosen id) then one batch of 1–3 signals for that decision (click, dwell, thumbs_up, or a window-closing skip). Latencies by scheduled minute; decide latency from the scheduled send time (coordinated-omission-safe), batch latency from the decide's answer. Rates by answer time. Server sampled every {s.SampleInterval.TotalSeconds:0} s; rewards and learner updates from its `/metrics` counters.");
        sb.AppendLine();
        sb.AppendLine("| min | decides/s | signals/s | decide p50 ms | p99 ms | p99.9 ms | max ms | batch p50 ms | p99 ms | p99.9 ms | max ms | send lag p99 ms | errors | 503 | rewards: window / signal | learned | turns | RSS at end MiB | RSS range MiB | data MiB (WAL) | CPU server / client / other |");
        sb.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var m in report.Minutes)
        {
            sb.AppendLine(c, $"| {m.Minute + 1} | {m.DecidesPerSecond:N0} | {m.SignalsPerSecond:N0} | {m.Decide.P50Ms:0.00} | {m.Decide.P99Ms:0.00} | {m.Decide.P999Ms:0.00} | {m.Decide.MaxMs:0.0} | {m.Signals.P50Ms:0.00} | {m.Signals.P99Ms:0.00} | {m.Signals.P999Ms:0.00} | {m.Signals.MaxMs:0.0} | {m.SendLagP99Ms:0.00} | {m.DecideErrors + m.SignalErrors:N0} | {m.Unavailable:N0} | {m.RewardsByWindow:N0} / {m.RewardsBySignal:N0} | {m.LearnerUpdates:N0} | {m.Turns:N0} | {m.MemoryAtEnd.RssMiB:0} | {m.RssMinMiB:0}–{m.RssMaxMiB:0} | {m.DataBytesAtEnd / MiB:0} ({m.WalBytesAtEnd / MiB:0}) | {m.Cpu.Server:0.00} / {m.Cpu.Client:0.00} / {m.Cpu.Other:0.00} |");
        }
        sb.AppendLine();
        sb.AppendLine(c, $"Totals: {t.Sessions:N0} sessions; {t.Decides:N0} decides answered (p99 {t.Decide.P99Ms:0.00} ms, max {t.Decide.MaxMs:0.0} ms), {t.DecideErrors:N0} failed; {t.SignalBatches:N0} signal batches acknowledged ({t.Accepted:N0} signals; p99 {t.Signals.P99Ms:0.00} ms), {t.SignalErrors:N0} failed; 503s {t.Unavailable:N0}; duplicates {t.Duplicates:N0}, orphaned {t.Orphaned:N0}, late {t.Late:N0}{(t.ErrorKinds is null ? "" : $"; errors: {t.ErrorKinds}")}.");
        sb.AppendLine();
        var first = report.Samples.FirstOrDefault();
        var last = report.Samples.LastOrDefault();
        sb.AppendLine(c, $"RSS every {s.SampleInterval.TotalSeconds:0} s (MiB): {string.Join(", ", report.Samples.Select(x => x.Memory.RssMiB.ToString("0", c)))}.");
        if (first is not null && last is not null)
        {
            sb.AppendLine(c, $"Threads {first.Memory.Threads} → {last.Memory.Threads}, open files {first.Memory.OpenFiles} → {last.Memory.OpenFiles}, peak RSS (VmHWM) {last.Memory.PeakRssMiB:0.0} MiB, `/metrics` scrape {report.Samples.Where(x => double.IsFinite(x.Counters.ScrapeMs)).Select(x => x.Counters.ScrapeMs).DefaultIfEmpty(double.NaN).Max():0.0} ms at most.");
        }
        if (report.ServerLog.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine(c, $"The server printed {report.ServerLog.Count:N0} lines during the soak; the first {Math.Min(report.ServerLog.Count, 8)}:");
            sb.AppendLine();
            foreach (var line in report.ServerLog.Take(8))
            {
                sb.AppendLine(c, $"- {line.Seconds:0.0} s: `{(line.Line.Length > 200 ? line.Line[..200] + "…" : line.Line).Replace("`", "'", StringComparison.Ordinal)}`");
            }
        }
        sb.AppendLine();
        sb.AppendLine("**Verdict**");
        sb.AppendLine();
        var after = v.SpreadFromMinute > 0 ? string.Create(c, $"after minute {v.SpreadFromMinute:0}") : "over the whole soak";
        sb.AppendLine(c, $"- Memory {(v.MemoryFlat switch { true => "**flat**", false => "**not flat**", null => "**too short to tell** (under 4 minutes)" })} (flat: under {SoakVerdict.FlatSlopeMiBPerMinute:0} MiB/min, within noise). Over minutes {v.SlopeFromMinute + 1:0}–{s.Minutes}, RSS slope {v.RssSlopeMiBPerMinute:+0.00;-0.00} ± {v.RssSlopeStandardError:0.00} MiB/min (all samples, ± one standard error), {v.RssFloorSlopeMiBPerMinute:+0.00;-0.00} MiB/min for each minute's lowest sample, anonymous memory {v.RssAnonSlopeMiBPerMinute:+0.00;-0.00} MiB/min; {after} RSS stays within {v.RssMinMiB:0}–{v.RssMaxMiB:0} MiB (max − min {v.RssMaxMiB - v.RssMinMiB:0} MiB).");
        if (first is not null && last is not null)
        {
            sb.AppendLine(c, $"  From the first sample to the last: anonymous memory (the GC heap, native allocations) {first.Memory.RssAnonMiB:0} → {last.Memory.RssAnonMiB:0} MiB; file-backed {first.Memory.RssFileMiB:0} → {last.Memory.RssFileMiB:0} MiB (code, and SQLite's wal-index, which grows with the WAL).");
        }
        sb.AppendLine(c, $"- Decide p99 per minute {after}: {v.DecideP99MinMs:0.00} / {v.DecideP99MedianMs:0.00} / {v.DecideP99MaxMs:0.00} ms (min / median / max): **{v.P99Trend}**. Signal batch p99 median {v.SignalP99MedianMs:0.00} ms.");
        if (last is not null && first is not null && last.WalBytes > 64 * MiB)
        {
            sb.AppendLine(c, $"- The write-ahead log grew from {first.WalBytes / MiB:0} to {last.WalBytes / MiB:0} MiB during the soak ({(last.WalBytes - first.WalBytes) / MiB / s.Minutes:0} MiB/min).");
        }
        return sb.ToString();
    }

    private static string Cpu(CpuUse u) => string.Create(CultureInfo.InvariantCulture, $"{u.Server:0.00} / {u.Client:0.00} / {u.Other:0.00} / {u.IoWait:0.00}");
}

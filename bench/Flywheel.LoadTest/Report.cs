using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Flywheel.LoadTest;

/// <summary>Renders a <see cref="LoadReport"/> as Markdown tables or JSON.</summary>
internal static class Report
{
    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Json(LoadReport report) => JsonSerializer.Serialize(report, JsonOptions) + Environment.NewLine;

    public static string Json(SoakReport report) => JsonSerializer.Serialize(report, JsonOptions) + Environment.NewLine;

    private static string Cpu(CpuUse u) => string.Create(CultureInfo.InvariantCulture, $"{u.Server:0.00} / {u.Client:0.00} / {u.Other:0.00} / {u.IoWait:0.00}");

    public static string Markdown(LoadReport report)
    {
        var s = report.Settings;
        var sb = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        sb.AppendLine(c, $"Machine: {report.Machine.Cpu}, {report.Machine.Cores} cores (shared by client and server), {report.Machine.Os}, {report.Machine.Runtime}.");
        sb.AppendLine();
        sb.AppendLine(c, $"### Decide latency (open loop, fixed rate; {Workload.ActionsPerDecision} actions × {Workload.ContextFeatures + Workload.FeaturesPerAction} features)");
        sb.AppendLine();
        sb.AppendLine(c, $"{s.DecideDuration.TotalSeconds:0.#} s measured per rate after {s.DecideWarmup.TotalSeconds:0.#} s warm-up. Latency runs from each request's scheduled send time to the end of its answer (coordinated-omission-safe), so it includes the generator's own send lag. CPU: cores used by the server, by this load generator, by anything else on the machine, and cores idle waiting for I/O, over the measured window.");
        sb.AppendLine();
        sb.AppendLine("| durability | target /s | achieved /s | requests | errors | p50 ms | p99 ms | p99.9 ms | max ms | send lag p99 ms | CPU cores: server / client / other / iowait |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var d in report.Decide)
        {
            var reached = d.AchievedRate >= d.TargetRate * 0.98 ? "" : " (not reached)";
            sb.AppendLine(c, $"| {d.Durability} | {d.TargetRate:N0} | {d.AchievedRate:N0}{reached} | {d.Requests:N0} | {d.Errors:N0} | {d.Latency.P50Ms:0.000} | {d.Latency.P99Ms:0.000} | {d.Latency.P999Ms:0.000} | {d.Latency.MaxMs:0.0} | {d.SendLag.P99Ms:0.000} | {Cpu(d.Cpu)} |");
        }
        var decideErrors = report.Decide.Where(d => d.ErrorKinds is not null).ToList();
        if (decideErrors.Count > 0)
        {
            sb.AppendLine();
            foreach (var d in decideErrors)
            {
                sb.AppendLine(c, $"Errors at {d.TargetRate:N0}/s ({d.Durability}): {d.ErrorKinds}.");
            }
        }
        sb.AppendLine();
        sb.AppendLine(c, $"### Signal throughput (closed loop, {s.Senders} senders{(s.SignalIds ? ", unique signalId per signal" : ", no signalId")})");
        sb.AppendLine();
        sb.AppendLine(c, $"{s.SignalDuration.TotalSeconds:0.#} s measured per batch size after {s.SignalWarmup.TotalSeconds:0.#} s warm-up; each signal names one of {s.SignalDecisions:N0} open decisions ({(s.SequentialSignals ? "walking them in creation order" : "drawn uniformly at random")}). Acknowledged = `accepted` of 202 answers received in the measured window.");
        sb.AppendLine();
        sb.AppendLine("| durability | batch | acknowledged signals/s | batches/s | batch p50 ms | batch p99 ms | batch max ms | errors | duplicates | CPU cores: server / client / other / iowait |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in report.Signals)
        {
            sb.AppendLine(c, $"| {r.Durability} | {r.BatchSize:N0} | {r.SignalsPerSecond:N0} | {r.BatchesPerSecond:N0} | {r.Latency.P50Ms:0.000} | {r.Latency.P99Ms:0.000} | {r.Latency.MaxMs:0.0} | {r.Errors:N0} | {r.Duplicates:N0} | {Cpu(r.Cpu)} |");
        }
        var signalErrors = report.Signals.Where(r => r.ErrorKinds is not null || r.Orphaned > 0 || r.Late > 0).ToList();
        if (signalErrors.Count > 0)
        {
            sb.AppendLine();
            foreach (var r in signalErrors)
            {
                sb.AppendLine(c, $"Batch {r.BatchSize:N0} ({r.Durability}): errors {r.ErrorKinds ?? "none"}; orphaned {r.Orphaned:N0}; late {r.Late:N0}.");
            }
        }
        sb.AppendLine();
        sb.AppendLine("### Targets");
        sb.AppendLine();
        foreach (var d in report.Decide.Where(d => d.TargetRate == 1_000))
        {
            sb.AppendLine(c, $"- decide p99 < 1 ms at 1,000/s ({d.Durability}): p99 {d.Latency.P99Ms:0.000} ms, achieved {d.AchievedRate:N0}/s — {(d.Latency.P99Ms < 1 && d.Errors == 0 && d.AchievedRate >= 980 ? "met" : "NOT met")}");
        }
        foreach (var r in report.Signals.Where(r => r.BatchSize == 1_000))
        {
            sb.AppendLine(c, $"- ≥ 100,000 acknowledged signals/s in batches of 1,000 ({r.Durability}): {r.SignalsPerSecond:N0}/s — {(r.SignalsPerSecond >= 100_000 && r.Errors == 0 ? "met" : "NOT met")}");
        }
        sb.AppendLine();
        foreach (var run in report.Servers)
        {
            sb.AppendLine(c, $"Server ({run.Durability}): {run.TotalSeconds:0} s from start to stop, {run.DataBytes / (1024.0 * 1024.0):0.0} MiB of data left.");
        }
        return sb.ToString();
    }
}

using System.Globalization;
using System.Text.Json;
using Flywheel.Core;

namespace Flywheel.Simulation.Search;

/// <summary>
/// What <c>flywheel simulate search</c> prints: the block table, the closing comparison and the examination table as text,
/// or the same figures as one JSON object. Nothing in either depends on the machine or the wall clock.
/// </summary>
public static class SearchReport
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>The scenario's description, its loops and world in a few lines.</summary>
    public static void WriteDescription(TextWriter output, SearchResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        var o = result.Options;
        var w = o.World;
        output.WriteLine($"{SearchSimulation.Name}: {SearchSimulation.Description}");
        foreach (var l in result.Loops)
        {
            output.WriteLine(string.Create(C, $"  {l.Spec.Name}: {l.Spec.Description}; interventionRate {l.Loop.RankSettings.InterventionRate}"));
        }
        output.WriteLine(string.Create(C,
            $"  world: {w.Intents} intents (Zipf {w.PopularitySkew}), {w.Documents:N0} documents, {w.Candidates} candidates a query ({w.FromPool} from the intent's pool of {w.PoolSize}), {o.Slots} slots; "
            + $"examination θ = {string.Join(", ", result.TrueExamination.Select(t => t.ToString("0.###", C)))}; seed {o.Seed}, {o.Queries:N0} queries"));
    }

    /// <summary>
    /// One row per block of queries: each loop's share of the oracle ranking's expected clicks on relevant results, and a
    /// uniformly random ranking's for reference.
    /// </summary>
    public static void WriteBlocks(TextWriter output, SearchResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        var header = new List<string> { "queries" };
        header.AddRange(result.Loops.Select(l => l.Spec.Name + " ratio"));
        header.Add("random");
        var rows = new List<string[]> { header.ToArray() };
        foreach (var block in result.Blocks())
        {
            var row = new List<string> { string.Create(C, $"{block.First:N0}-{block.Last:N0}") };
            row.AddRange(result.Loops.Select((_, i) => block.Ratio(i).ToString("F3", C)));
            row.Add(block.UniformRatio.ToString("F3", C));
            rows.Add([.. row]);
        }
        WriteTable(output, rows);
    }

    /// <summary>The closing comparison: the first two loops over the last queries, paired query by query.</summary>
    public static void WriteFinal(TextWriter output, SearchResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        var f = result.Final();
        var (a, b) = (result.Loops[0].Spec.Name, result.Loops[1].Spec.Name);
        output.WriteLine(string.Create(C,
            $"Queries {f.First:N0}-{f.Last:N0}: {a}'s rankings earned {f.A:F3} of the oracle ranking's expected clicks on relevant results, {b}'s {f.B:F3}; "
            + $"{a} - {b} = {f.Difference:+0.000;-0.000} [{f.Lower:+0.000;-0.000}, {f.Upper:+0.000;-0.000}] (95%, paired by query)."));
    }

    /// <summary>Each slot's true examination probability and each loop's estimate, with A's 95% interval and what A's learner divides by.</summary>
    public static void WriteExamination(TextWriter output, SearchResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        var header = new List<string> { "slot", "true" };
        foreach (var l in result.Loops)
        {
            header.AddRange([$"{l.Spec.Name} estimate", $"{l.Spec.Name} 95% interval", $"{l.Spec.Name} error", $"{l.Spec.Name} used"]);
        }
        var rows = new List<string[]> { header.ToArray() };
        var truth = result.TrueExamination;
        for (var s = 0; s < truth.Count; s++)
        {
            var row = new List<string> { (s + 1).ToString(C), truth[s].ToString("F3", C) };
            foreach (var l in result.Loops)
            {
                var e = l.Examination.Slots[s];
                row.Add(Number(e.Examination, "F3"));
                row.Add(s == 0 ? "" : $"[{Number(e.Lower, "F3")}, {Number(e.Upper, "F3")}]");
                row.Add(double.IsFinite(e.Examination) ? (e.Examination - truth[s]).ToString("+0.000;-0.000;0.000", C) : "-");
                row.Add(e.Used.ToString("F3", C));
            }
            rows.Add([.. row]);
        }
        WriteTable(output, rows);
        output.WriteLine(string.Join("; ", result.Loops.Select(l => string.Create(C,
            $"{l.Spec.Name}: {l.Examination.Interventions:N0} shuffled decisions, {l.Clicks:N0} clicks ({l.Bounces:N0} bounced)"))) + ".");
    }

    /// <summary>The run as one JSON object (docs/simulation.md, "The search world", lists the members).</summary>
    public static void WriteJson(Stream stream, SearchResult result, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(result);
        var o = result.Options;
        var world = o.World;
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented });
        w.WriteStartObject();
        w.WriteString("scenario", SearchSimulation.Name);
        w.WriteString("description", SearchSimulation.Description);
        w.WriteNumber("seed", o.Seed);
        w.WriteNumber("queries", o.Queries);
        w.WriteNumber("blockSize", o.BlockSize);
        w.WriteNumber("slots", o.Slots);

        w.WriteStartObject("world");
        w.WriteNumber("intents", world.Intents);
        w.WriteNumber("popularitySkew", world.PopularitySkew);
        w.WriteNumber("topics", world.Topics);
        w.WriteNumber("documents", world.Documents);
        w.WriteNumber("poolSize", world.PoolSize);
        w.WriteNumber("candidates", world.Candidates);
        w.WriteNumber("fromPool", world.FromPool);
        w.WriteBoolean("fixedCandidates", world.FixedCandidates);
        WriteNumbers(w, "gradeShares", world.GradeShares);
        w.WriteNumber("clickMin", world.ClickMin);
        w.WriteNumber("clickMax", world.ClickMax);
        WriteNumbers(w, "bounce", world.Bounce);
        w.WriteNumber("relevantGrade", world.RelevantGrade);
        WriteNumbers(w, "examination", result.TrueExamination);
        w.WriteEndObject();

        w.WriteStartArray("loops");
        foreach (var l in result.Loops)
        {
            w.WriteStartObject();
            w.WriteString("key", l.Spec.Key);
            w.WriteString("name", l.Spec.Name);
            w.WriteString("description", l.Spec.Description);
            w.WriteString("positionBias", l.Spec.PositionBias.ToString());
            w.WriteNumber("interventionRate", l.Loop.RankSettings.InterventionRate);
            w.WriteNumber("interventions", l.Examination.Interventions);
            w.WriteNumber("clicks", l.Clicks);
            w.WriteNumber("relevantClicks", l.RelevantClicks);
            w.WriteNumber("bounces", l.Bounces);
            w.WriteNumber("explored", l.Explored);
            w.WriteNumber("modelVersion", l.ModelVersion);
            w.WriteEndObject();
        }
        w.WriteEndArray();

        w.WriteStartArray("blocks");
        foreach (var block in result.Blocks())
        {
            w.WriteStartObject();
            w.WriteNumber("first", block.First);
            w.WriteNumber("last", block.Last);
            w.WriteNumber("oracle", block.Oracle);
            w.WriteNumber("uniformRatio", block.UniformRatio);
            for (var i = 0; i < result.Loops.Count; i++)
            {
                w.WriteStartObject(result.Loops[i].Spec.Key);
                w.WriteNumber("served", block.Served[i]);
                w.WriteNumber("ratio", block.Ratio(i));
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();

        var f = result.Final();
        w.WriteStartObject("final");
        w.WriteNumber("first", f.First);
        w.WriteNumber("last", f.Last);
        w.WriteNumber(result.Loops[0].Spec.Key, f.A);
        w.WriteNumber(result.Loops[1].Spec.Key, f.B);
        w.WriteNumber("difference", f.Difference);
        WriteNumber(w, "standardError", f.StandardError);
        WriteNumber(w, "lower", f.Lower);
        WriteNumber(w, "upper", f.Upper);
        w.WriteEndObject();

        w.WriteStartArray("examination");
        var truth = result.TrueExamination;
        for (var s = 0; s < truth.Count; s++)
        {
            w.WriteStartObject();
            w.WriteNumber("slot", s + 1);
            w.WriteNumber("truth", truth[s]);
            foreach (var l in result.Loops)
            {
                var e = l.Examination.Slots[s];
                w.WriteStartObject(l.Spec.Key);
                WriteNumber(w, "estimate", e.Examination);
                WriteNumber(w, "lower", e.Lower);
                WriteNumber(w, "upper", e.Upper);
                WriteNumber(w, "error", e.Examination - truth[s]);
                w.WriteNumber("used", e.Used);
                w.WriteNumber("decisions", e.Decisions);
                w.WriteNumber("engaged", e.Engaged);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static string Number(double value, string format) => double.IsFinite(value) ? value.ToString(format, C) : "-";

    private static void WriteNumber(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteNumbers(Utf8JsonWriter w, string name, IEnumerable<double> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteNumberValue(v);
        }
        w.WriteEndArray();
    }

    private static void WriteTable(TextWriter output, List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
        {
            output.WriteLine(string.Join("  ", row.Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]))).TrimEnd());
        }
    }
}

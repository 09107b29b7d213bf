using System.Globalization;
using System.Text.Json;

namespace Flywheel.Simulation.Summarise;

/// <summary>
/// What <c>flywheel simulate summarise</c> prints: the closing comparison, the learning curve and the variants each arm
/// served, as text, or the same figures as one JSON object. Nothing in either depends on the machine or the wall clock.
/// </summary>
public static class SummariseReport
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>The scenario's description, its arms and world in a few lines.</summary>
    public static void WriteDescription(TextWriter output, SummariseResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        var o = result.Options;
        output.WriteLine($"{SummariseSimulation.Name}: {SummariseSimulation.Description}");
        output.WriteLine("  loop: the generation loop, online (kept and copied +1, edited -distance, regenerated -1)");
        output.WriteLine("  baseline: the same loop, frozen: it never learns, so it serves the 8 variants uniformly");
        output.WriteLine(string.Create(C,
            $"  world: {o.Users:N0} users over {o.Days} days, {result.World.Requests.Count:N0} requests; variants {string.Join(", ", SummariseWorld.Variants.Select(v => v.Key))}; seed {o.Seed}"));
    }

    /// <summary>The closing comparison: each arm's last generations, and the loop minus the baseline with 95% intervals.</summary>
    public static void WriteFinal(TextWriter output, SummariseResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        var c = result.Compare();
        output.WriteLine(string.Create(C,
            $"Last {c.Loop.Generations:N0} generations of each arm (an output kept or copied counts as distance 0, a regenerated one as 1):"));
        foreach (var (name, f) in new[] { ("loop", c.Loop), ("baseline", c.Baseline) })
        {
            output.WriteLine(string.Create(C,
                $"  {name,-8}  edit distance {f.Distance.Value:F3} [{f.Distance.Lower:F3}, {f.Distance.Upper:F3}]  kept without edits {f.KeptShare.Value:F3} [{f.KeptShare.Lower:F3}, {f.KeptShare.Upper:F3}]  regenerated {f.RegeneratedShare:F3}"));
        }
        output.WriteLine(string.Create(C,
            $"loop - baseline: edit distance {Signed(c.Distance.Value)} [{Signed(c.Distance.Lower)}, {Signed(c.Distance.Upper)}], kept without edits {Signed(c.KeptShare.Value)} [{Signed(c.KeptShare.Lower)}, {Signed(c.KeptShare.Upper)}] (95%, Welch)."));
    }

    /// <summary>The learning curve: per block of days, each arm's mean counted distance and kept share, and the truth's bounds.</summary>
    public static void WriteBlocks(TextWriter output, SummariseResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        var rows = new List<string[]> { new[] { "days", "requests", "loop distance", "loop kept", "baseline distance", "baseline kept", "loop first", "baseline first", "best variant", "best single", "random variant" } };
        foreach (var b in result.Blocks())
        {
            rows.Add(
            [
                string.Create(C, $"{b.FirstDay}-{b.LastDay}"),
                b.Requests.ToString("N0", C),
                Number(b.Arms[0].Distance.Value), Number(b.Arms[0].KeptShare.Value),
                Number(b.Arms[1].Distance.Value), Number(b.Arms[1].KeptShare.Value),
                Number(b.Served[0]), Number(b.Served[1]), Number(b.Oracle), Number(b.BestSingle), Number(b.Uniform),
            ]);
        }
        WriteTable(output, rows);
    }

    /// <summary>The share of each variant in each arm's last generations.</summary>
    public static void WriteVariants(TextWriter output, SummariseResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        var rows = new List<string[]> { new[] { "variant", "loop", "baseline" } };
        var shares = result.Arms.Select(a => a.VariantShares(Math.Max(0, a.Generations.Count - result.Options.FinalGenerations))).ToArray();
        for (var v = 0; v < SummariseWorld.Variants.Count; v++)
        {
            rows.Add([SummariseWorld.Variants[v].Key, Number(shares[0][v]), Number(shares[1][v])]);
        }
        WriteTable(output, rows);
    }

    /// <summary>The run as one JSON object (docs/summarise-simulation.md lists the members).</summary>
    public static void WriteJson(Stream stream, SummariseResult result, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(result);
        var o = result.Options;
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented });
        w.WriteStartObject();
        w.WriteString("scenario", SummariseSimulation.Name);
        w.WriteString("description", SummariseSimulation.Description);
        w.WriteNumber("seed", o.Seed);
        w.WriteNumber("users", o.Users);
        w.WriteNumber("days", o.Days);
        w.WriteNumber("requests", result.World.Requests.Count);
        w.WriteNumber("blockDays", o.BlockDays);
        w.WriteNumber("finalGenerations", o.FinalGenerations);
        w.WriteStartArray("variants");
        foreach (var v in SummariseWorld.Variants)
        {
            w.WriteStringValue(v.Key);
        }
        w.WriteEndArray();

        w.WriteStartArray("arms");
        foreach (var a in result.Arms)
        {
            w.WriteStartObject();
            w.WriteString("key", SummariseSimulation.PolicyName(a.Policy));
            w.WriteString("mode", a.Loop.Mode.ToString().ToLowerInvariant());
            w.WriteNumber("generations", a.Generations.Count);
            w.WriteNumber("explored", a.Explored);
            w.WriteNumber("modelVersion", a.ModelVersion);
            w.WriteStartObject("outcomes");
            var outcomes = a.Outcomes;
            foreach (var outcome in Enum.GetValues<SummaryOutcome>())
            {
                w.WriteNumber(outcome.ToString().ToLowerInvariant(), outcomes[(int)outcome]);
            }
            w.WriteEndObject();
            WriteFigures(w, "all", SummaryFigures.Of([.. a.Generations]));
            WriteFigures(w, "final", SummaryFigures.Of(result.Final(a)));
            w.WriteStartArray("finalVariantShares");
            foreach (var share in a.VariantShares(Math.Max(0, a.Generations.Count - o.FinalGenerations)))
            {
                w.WriteNumberValue(share);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();

        var c = result.Compare();
        w.WriteStartObject("comparison");
        WriteMean(w, "distance", c.Distance);
        WriteMean(w, "keptShare", c.KeptShare);
        w.WriteEndObject();

        w.WriteStartArray("blocks");
        foreach (var b in result.Blocks())
        {
            w.WriteStartObject();
            w.WriteNumber("firstDay", b.FirstDay);
            w.WriteNumber("lastDay", b.LastDay);
            w.WriteNumber("requests", b.Requests);
            WriteNumber(w, "bestVariantDistance", b.Oracle);
            WriteNumber(w, "bestSingleVariantDistance", b.BestSingle);
            WriteNumber(w, "randomVariantDistance", b.Uniform);
            for (var i = 0; i < result.Arms.Count; i++)
            {
                WriteFigures(w, SummariseSimulation.PolicyName(result.Arms[i].Policy), b.Arms[i], b.Served[i]);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteFigures(Utf8JsonWriter w, string name, SummaryFigures f, double? firstDistance = null)
    {
        w.WriteStartObject(name);
        w.WriteNumber("generations", f.Generations);
        if (firstDistance is { } first)
        {
            WriteNumber(w, "firstOutputDistance", first);
        }
        WriteMean(w, "distance", f.Distance);
        WriteMean(w, "keptShare", f.KeptShare);
        WriteNumber(w, "regeneratedShare", f.RegeneratedShare);
        w.WriteEndObject();
    }

    private static void WriteMean(Utf8JsonWriter w, string name, SummaryMean m)
    {
        w.WriteStartObject(name);
        WriteNumber(w, "value", m.Value);
        WriteNumber(w, "lower", m.Lower);
        WriteNumber(w, "upper", m.Upper);
        w.WriteEndObject();
    }

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

    private static string Number(double value) => double.IsFinite(value) ? value.ToString("F3", C) : "-";

    private static string Signed(double value) => value.ToString("+0.000;-0.000;0.000", C);

    private static void WriteTable(TextWriter output, List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
        {
            output.WriteLine(string.Join("  ", row.Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]))).TrimEnd());
        }
    }
}

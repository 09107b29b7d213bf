using System.Globalization;
using System.Text.Json;

namespace Flywheel.Simulation.Tutor;

/// <summary>
/// What <c>flywheel simulate tutor</c> prints: each policy's figures with their intervals, the loop against each baseline,
/// the block tables and the reminder loop's policy as text, or the same figures as one JSON object. Nothing in either
/// depends on the machine or the wall clock.
/// </summary>
public static class TutorReport
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>One line on how <paramref name="policy"/> picks exercises.</summary>
    public static string Describe(TutorPolicy policy, TutorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return policy switch
        {
            TutorPolicy.Loop => string.Create(C, $"the ability loop '{TutorSimulation.TutorLoopId}' on the engine (targetSuccess {options.TargetSuccess}, model {(options.Model == Core.AbilityModel.Irt ? "irt" : "elo")}) picks among the session topic's items"),
            TutorPolicy.Random => "a uniformly random item of the session's topic",
            _ => "the whole bank in order of tagged level, easiest first, one item after another",
        };
    }

    /// <summary>The scenario's description, its policies and world in a few lines.</summary>
    public static void WriteDescription(TextWriter output, TutorResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        var o = result.Options;
        var w = o.World;
        output.WriteLine($"{TutorSimulation.Name}: {TutorSimulation.Description}");
        foreach (var arm in result.Arms)
        {
            output.WriteLine($"  {TutorSimulation.PolicyName(arm.Policy)}: {Describe(arm.Policy, o)}");
        }
        if (o.Reminders)
        {
            output.WriteLine($"  every policy: the choose loop '{TutorSimulation.ReminderLoopId}' picks none, morning or evening for each lapsed learner; reward: '{TutorSimulation.ReturnedSignal}' within 24 h");
        }
        output.WriteLine(string.Create(C,
            $"  world: {o.Learners:N0} learners (ability N({w.AbilityMean}, {w.AbilitySd}²)), {w.Topics * w.ItemsPerTopic:N0} items in {w.Topics} topics (difficulty {w.DifficultyMin} to {w.DifficultyMax}, tagged levels 1-{w.Levels}), "
            + $"sessions of up to {w.SessionLength} exercises; seed {o.Seed}, {o.Days} days"));
    }

    /// <summary>Each policy's figures with their 95% intervals.</summary>
    public static void WriteSummary(TextWriter output, TutorResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        var rows = new List<string[]>
        {
            new[] { "policy", "answers/learner", "success after warm-up", "ability gain", "quit share", "quit: failures/boredom", $"Spearman (learners)" },
        };
        foreach (var arm in result.Arms)
        {
            var s = result.Summary(arm.Policy);
            rows.Add(
            [
                TutorSimulation.PolicyName(arm.Policy),
                Interval(s.AnswersPerLearner, "F1"),
                Interval(s.SuccessAfterWarmUp, "F3"),
                Interval(s.Gain, "F3"),
                Interval(s.QuitShare, "F3"),
                string.Create(C, $"{s.QuitFailures:F3}/{s.QuitBoredom:F3}"),
                s.Spearman is { } rho ? Interval(rho, "F3") + string.Create(C, $" ({s.SpearmanLearners})") : "-",
            ]);
        }
        WriteTable(output, rows);
    }

    /// <summary>The loop against each baseline, paired by learner, and how its estimates sit against the truth.</summary>
    public static void WriteComparisons(TextWriter output, TutorResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        foreach (var c in result.Comparisons())
        {
            output.WriteLine(string.Create(C,
                $"{TutorSimulation.PolicyName(c.A)} - {TutorSimulation.PolicyName(c.B)}: ability gain {Signed(c.Gain)}, quit share {Signed(c.QuitShare)}, answers/learner {Signed(c.Answers, "+0.0;-0.0")} (95%, paired by learner)."));
        }
        if (result.Arms.Any(a => a.Policy == TutorPolicy.Loop))
        {
            var s = result.Summary(TutorPolicy.Loop);
            var arm = result[TutorPolicy.Loop];
            output.WriteLine(s.SpearmanLearners == 0
                ? string.Create(C, $"No learner reached {result.Options.SpearmanAnswers} answers under the loop.")
                : string.Create(C,
                    $"Loop estimates of the {s.SpearmanLearners} learners with at least {result.Options.SpearmanAnswers} answers: mean estimate - truth {s.EstimateBias:+0.000;-0.000}; "
                    + $"the truth inside the 95% interval for {s.IntervalCoverage * 100:F0}% of them. {arm.Explored:N0} of {arm.Decisions:N0} decisions explored."));
        }
    }

    /// <summary>One row per block of days: each policy's success rate, mean ability gained since day 1 and learners who quit so far.</summary>
    public static void WriteBlocks(TextWriter output, TutorResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        var header = new List<string> { "days" };
        foreach (var arm in result.Arms)
        {
            var name = TutorSimulation.PolicyName(arm.Policy);
            header.AddRange([name + " success", name + " gain", name + " quit"]);
        }
        var rows = new List<string[]> { header.ToArray() };
        foreach (var block in result.Blocks())
        {
            var row = new List<string> { string.Create(C, $"{block.FirstDay}-{block.LastDay}") };
            foreach (var a in block.Arms)
            {
                row.AddRange([Number(a.SuccessRate, "F3"), a.MeanGain.ToString("F3", C), a.QuitSoFar.ToString(C)]);
            }
            rows.Add([.. row]);
        }
        WriteTable(output, rows);
    }

    /// <summary>The reminder loop by block of days under each policy, then what it serves at the end.</summary>
    public static void WriteReminders(TextWriter output, TutorResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        var header = new List<string> { "days" };
        foreach (var arm in result.Arms)
        {
            var name = TutorSimulation.PolicyName(arm.Policy);
            header.AddRange([name + " lapsed", name + " own time", name + " none", name + " returned"]);
        }
        var rows = new List<string[]> { header.ToArray() };
        foreach (var block in result.Blocks())
        {
            var row = new List<string> { string.Create(C, $"{block.FirstDay}-{block.LastDay}") };
            foreach (var a in block.Arms)
            {
                row.AddRange([a.Sent.ToString(C), Number(a.MatchedPolicy, "F2"), Number(a.Sent == 0 ? double.NaN : (double)a.Reminders[0] / a.Sent, "F2"), Number(a.ReturnRate, "F2")]);
            }
            rows.Add([.. row]);
        }
        WriteTable(output, rows);
        foreach (var arm in result.Arms)
        {
            var parts = arm.ReminderPolicy.Select(p => string.Create(C,
                $"{TutorSimulation.TimeName(p.Time)} learners {string.Join(" / ", p.Probabilities.Select(x => x.ToString("F2", C)))} (favours {p.Favoured})"));
            output.WriteLine($"{TutorSimulation.PolicyName(arm.Policy)}: {string.Join("; ", parts)}.");
        }
    }

    /// <summary>The run as one JSON object (docs/tutor-simulation.md lists the members).</summary>
    public static void WriteJson(Stream stream, TutorResult result, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(result);
        var o = result.Options;
        var world = o.World;
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented });
        w.WriteStartObject();
        w.WriteString("scenario", TutorSimulation.Name);
        w.WriteString("description", TutorSimulation.Description);
        w.WriteNumber("seed", o.Seed);
        w.WriteNumber("learners", o.Learners);
        w.WriteNumber("days", o.Days);
        w.WriteNumber("blockDays", o.BlockDays);
        w.WriteNumber("targetSuccess", o.TargetSuccess);
        w.WriteString("model", o.Model == Core.AbilityModel.Irt ? "irt" : "elo");
        w.WriteBoolean("reminders", o.Reminders);
        w.WriteNumber("warmUpAnswers", o.WarmUpAnswers);
        w.WriteNumber("spearmanAnswers", o.SpearmanAnswers);
        w.WriteNumber("bootstrap", o.Bootstrap);
        w.WriteString("intervals", "95% percentile bootstrap over learners");

        w.WriteStartObject("world");
        w.WriteNumber("topics", world.Topics);
        w.WriteNumber("itemsPerTopic", world.ItemsPerTopic);
        w.WriteNumber("difficultyMin", world.DifficultyMin);
        w.WriteNumber("difficultyMax", world.DifficultyMax);
        w.WriteNumber("topicSpread", world.TopicSpread);
        w.WriteNumber("levels", world.Levels);
        w.WriteNumber("levelNoise", world.LevelNoise);
        w.WriteNumber("abilityMean", world.AbilityMean);
        w.WriteNumber("abilitySd", world.AbilitySd);
        w.WriteNumber("guess", world.Guess);
        w.WriteNumber("growthRate", world.GrowthRate);
        w.WriteNumber("growthPeak", world.GrowthPeak);
        w.WriteNumber("growthWidth", world.GrowthWidth);
        w.WriteNumber("memoryBonus", world.MemoryBonus);
        w.WriteNumber("memoryHalfLifeDays", world.MemoryHalfLifeDays);
        w.WriteNumber("sessionLength", world.SessionLength);
        w.WriteNumber("failRun", world.FailRun);
        w.WriteNumber("quitAfterFailRun", world.QuitAfterFailRun);
        w.WriteNumber("tooEasy", world.TooEasy);
        w.WriteNumber("boredRun", world.BoredRun);
        w.WriteNumber("quitAfterBoredRun", world.QuitAfterBoredRun);
        w.WriteNumber("habitMin", world.HabitMin);
        w.WriteNumber("habitMax", world.HabitMax);
        w.WriteNumber("lapseDecay", world.LapseDecay);
        w.WriteNumber("morningShare", world.MorningShare);
        w.WriteNumber("returnMatched", world.ReturnMatched);
        w.WriteNumber("returnMismatched", world.ReturnMismatched);
        w.WriteEndObject();

        w.WriteStartArray("policies");
        foreach (var arm in result.Arms)
        {
            var s = result.Summary(arm.Policy);
            w.WriteStartObject();
            w.WriteString("key", TutorSimulation.PolicyName(arm.Policy));
            w.WriteString("description", Describe(arm.Policy, o));
            w.WriteNumber("learners", s.Learners);
            WriteInterval(w, "answersPerLearner", s.AnswersPerLearner);
            WriteInterval(w, "successAfterWarmUp", s.SuccessAfterWarmUp);
            WriteInterval(w, "gain", s.Gain);
            WriteInterval(w, "quitShare", s.QuitShare);
            w.WriteNumber("quitFailures", s.QuitFailures);
            w.WriteNumber("quitBoredom", s.QuitBoredom);
            if (s.Spearman is { } rho)
            {
                WriteInterval(w, "spearman", rho);
            }
            else
            {
                w.WriteNull("spearman");
            }
            w.WriteNumber("spearmanLearners", s.SpearmanLearners);
            WriteNumber(w, "estimateBias", s.EstimateBias);
            WriteNumber(w, "intervalCoverage", s.IntervalCoverage);
            w.WriteNumber("decisions", arm.Decisions);
            w.WriteNumber("explored", arm.Explored);
            w.WriteStartArray("reminderPolicy");
            foreach (var p in arm.ReminderPolicy)
            {
                w.WriteStartObject();
                w.WriteString("time", TutorSimulation.TimeName(p.Time));
                for (var i = 0; i < TutorSimulation.ReminderActions.Count; i++)
                {
                    w.WriteNumber(TutorSimulation.ReminderActions[i], p.Probabilities[i]);
                }
                w.WriteString("favoured", p.Favoured);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("days");
            foreach (var d in arm.Days)
            {
                w.WriteStartObject();
                w.WriteNumber("day", d.Day);
                w.WriteNumber("active", d.Active);
                w.WriteNumber("practised", d.Practised);
                w.WriteNumber("answers", d.Answers);
                w.WriteNumber("correct", d.Correct);
                w.WriteNumber("quits", d.Quits);
                w.WriteNumber("quitSoFar", d.QuitSoFar);
                w.WriteNumber("meanGain", d.MeanGain);
                WriteActions(w, "reminders", d.Reminders);
                WriteActions(w, "returned", d.Returned);
                w.WriteNumber("matched", d.Matched);
                w.WriteStartObject("byTime");
                foreach (var time in new[] { PracticeTime.Morning, PracticeTime.Evening })
                {
                    w.WriteStartObject(TutorSimulation.TimeName(time));
                    w.WriteNumber("reminders", d.LapsedByTime[(int)time]);
                    w.WriteNumber("matchedProbability", d.MatchedProbability[(int)time]);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();

        w.WriteStartArray("comparisons");
        foreach (var c in result.Comparisons())
        {
            w.WriteStartObject();
            w.WriteString("a", TutorSimulation.PolicyName(c.A));
            w.WriteString("b", TutorSimulation.PolicyName(c.B));
            WriteInterval(w, "gain", c.Gain);
            WriteInterval(w, "quitShare", c.QuitShare);
            WriteInterval(w, "answers", c.Answers);
            w.WriteEndObject();
        }
        w.WriteEndArray();

        w.WriteStartArray("blocks");
        foreach (var block in result.Blocks())
        {
            w.WriteStartObject();
            w.WriteNumber("firstDay", block.FirstDay);
            w.WriteNumber("lastDay", block.LastDay);
            foreach (var a in block.Arms)
            {
                w.WriteStartObject(TutorSimulation.PolicyName(a.Policy));
                w.WriteNumber("answers", a.Answers);
                w.WriteNumber("correct", a.Correct);
                WriteNumber(w, "successRate", a.SuccessRate);
                w.WriteNumber("meanGain", a.MeanGain);
                w.WriteNumber("quitSoFar", a.QuitSoFar);
                w.WriteNumber("practised", a.Practised);
                WriteActions(w, "reminders", a.Reminders);
                WriteActions(w, "returned", a.Returned);
                w.WriteNumber("matched", a.Matched);
                WriteNumber(w, "matchedPolicy", a.MatchedPolicy);
                WriteNumber(w, "matchedPolicyMorning", a.MatchedPolicyOf(PracticeTime.Morning));
                WriteNumber(w, "matchedPolicyEvening", a.MatchedPolicyOf(PracticeTime.Evening));
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static string Interval(TutorInterval i, string format)
        => $"{Number(i.Value, format)} [{Number(i.Lower, format)}, {Number(i.Upper, format)}]";

    private static string Signed(TutorInterval i, string format = "+0.000;-0.000")
        => $"{Number(i.Value, format)} [{Number(i.Lower, format)}, {Number(i.Upper, format)}]";

    private static string Number(double value, string format) => double.IsFinite(value) ? value.ToString(format, C) : "-";

    private static void WriteInterval(Utf8JsonWriter w, string name, TutorInterval interval)
    {
        w.WriteStartObject(name);
        WriteNumber(w, "value", interval.Value);
        WriteNumber(w, "lower", interval.Lower);
        WriteNumber(w, "upper", interval.Upper);
        w.WriteEndObject();
    }

    private static void WriteActions(Utf8JsonWriter w, string name, IReadOnlyList<int> counts)
    {
        w.WriteStartObject(name);
        for (var i = 0; i < counts.Count; i++)
        {
            w.WriteNumber(TutorSimulation.ReminderActions[i], counts[i]);
        }
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

    private static void WriteTable(TextWriter output, List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
        {
            output.WriteLine(string.Join("  ", row.Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]))).TrimEnd());
        }
    }
}

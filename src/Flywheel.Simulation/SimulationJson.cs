using System.Text.Json;
using Flywheel.Core;

namespace Flywheel.Simulation;

/// <summary>
/// Writes a <see cref="SimulationResult"/> as one JSON object: the run's settings, the products, the monthly and daily
/// figures of each, their turn ledgers and the final month's comparison. Nothing in it depends on the machine or the
/// wall clock, so the same seed writes the same bytes.
/// </summary>
public static class SimulationJson
{
    /// <summary>Writes <paramref name="result"/> to <paramref name="stream"/>; <paramref name="daily"/> adds the per-day figures.</summary>
    public static void Write(Stream stream, SimulationResult result, bool daily = true, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(result);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented });
        w.WriteStartObject();
        w.WriteString("scenario", result.Scenario.Name);
        w.WriteString("description", result.Scenario.Description);
        w.WriteNumber("seed", result.Options.Seed);
        w.WriteNumber("days", result.Options.Days);
        w.WriteNumber("users", result.Options.Users);
        w.WriteString("start", SimulationCalendar.Start);

        w.WriteStartArray("products");
        foreach (var p in result.Products)
        {
            var spec = p.Spec;
            w.WriteStartObject();
            w.WriteString("key", spec.Key);
            w.WriteString("name", spec.Name);
            w.WriteString("description", spec.Description);
            w.WriteString("mode", LoopConfigJson.Name(spec.Mode));
            w.WriteNumber("launchDay", spec.LaunchDay);
            w.WriteBoolean("capturesSignals", spec.CapturesSignals);
            w.WriteBoolean("turns", spec.Turns);
            WriteOptional(w, "clonedFromDay", spec.ClonedFromDay);
            WriteOptional(w, "freezeDay", spec.FreezeDay);
            w.WriteString("loop", p.Loop.Id);
            w.WriteEndObject();
        }
        w.WriteEndArray();

        w.WriteStartArray("months");
        for (var m = 0; m < result.MonthCount; m++)
        {
            w.WriteStartObject();
            w.WriteNumber("month", m + 1);
            w.WriteString("name", SimulationCalendar.MonthName(m + 1));
            foreach (var p in result.Products)
            {
                w.WritePropertyName(p.Spec.Key);
                WriteMonth(w, p.Months[m]);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();

        if (daily)
        {
            w.WriteStartArray("daily");
            for (var d = 0; d < result.Options.Days; d++)
            {
                w.WriteStartObject();
                w.WriteNumber("day", d + 1);
                w.WriteString("date", SimulationCalendar.DateOf(d + 1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
                foreach (var p in result.Products)
                {
                    w.WritePropertyName(p.Spec.Key);
                    WriteDay(w, p.Days[d]);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }

        w.WriteStartObject("turns");
        foreach (var p in result.Products)
        {
            w.WriteStartArray(p.Spec.Key);
            foreach (var t in p.Turns)
            {
                w.WriteStartObject();
                w.WriteNumber("day", t.Day);
                w.WritePropertyName("entry");
                FlywheelJson.Write(w, t.Turn);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();

        WriteOutcome(w, result);

        // Last, as the run ends: each loop's health report and verdict.
        w.WriteStartObject("health");
        foreach (var p in result.Products)
        {
            if (p.Health is { } health)
            {
                w.WritePropertyName(p.Spec.Key);
                FlywheelJson.Write(w, health);
            }
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>The final month's reward difference between every pair of products that served in it.</summary>
    private static void WriteOutcome(Utf8JsonWriter w, SimulationResult result)
    {
        var month = result.MonthCount;
        w.WriteStartObject("outcome");
        w.WriteNumber("month", month);
        w.WriteStartObject("rewardDifference");
        foreach (var first in result.Products)
        {
            foreach (var second in result.Products.Where(p => p != first))
            {
                if (result.RewardDifference(first.Spec.Key, second.Spec.Key, month) is { } difference)
                {
                    w.WritePropertyName(first.Spec.Key + "-" + second.Spec.Key);
                    WriteEstimate(w, difference);
                }
            }
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteMonth(Utf8JsonWriter w, ProductMonth m)
    {
        w.WriteStartObject();
        w.WriteBoolean("launched", m.Launched);
        w.WriteNumber("activeUsers", m.ActiveUsers);
        w.WriteNumber("dailyActiveUsers", Round(m.DailyActiveUsers));
        w.WriteNumber("users", m.Users);
        w.WriteNumber("newUsers", m.NewUsers);
        w.WriteNumber("lostUsers", m.LostUsers);
        w.WriteNumber("returnVisits", m.ReturnVisits);
        w.WriteNumber("decisions", m.Decisions);
        WriteOptional(w, "enjoyedShare", m.EnjoyedShare);
        WriteOptional(w, "meanReward", m.MeanReward?.Value);
        WriteOptional(w, "meanRewardLower", m.MeanReward?.Lower);
        WriteOptional(w, "meanRewardUpper", m.MeanReward?.Upper);
        WriteOptional(w, "modelVersion", m.ModelVersion);
        if (m.Truth is { } truth)
        {
            w.WriteStartObject("truth");
            w.WriteNumber("servedExpectedReward", Round(truth.Served));
            w.WriteNumber("oracleExpectedReward", Round(truth.Oracle));
            w.WriteNumber("uniformExpectedReward", Round(truth.Uniform));
            w.WriteNumber("liftShare", Round(truth.LiftShare));
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("truth");
        }
        w.WriteNumber("turnsRun", m.TurnsRun);
        w.WriteNumber("turnsPromoted", m.TurnsPromoted);
        w.WriteNumber("rolledBack", m.RolledBack);
        w.WriteNumber("rivals", m.Rivals);
        WriteSignals(w, m.ImplicitSignals, m.ExplicitSignals, m.Signals);
        w.WriteEndObject();
    }

    private static void WriteDay(Utf8JsonWriter w, ProductDay d)
    {
        w.WriteStartObject();
        w.WriteBoolean("launched", d.Launched);
        w.WriteNumber("activeUsers", d.ActiveUsers);
        w.WriteNumber("users", d.Users);
        w.WriteNumber("newUsers", d.NewUsers);
        w.WriteNumber("lostUsers", d.LostUsers);
        w.WriteNumber("returnVisits", d.ReturnVisits);
        w.WriteNumber("satisfiedVisits", d.SatisfiedVisits);
        w.WriteNumber("decisions", d.Decisions);
        w.WriteNumber("enjoyed", d.Enjoyed);
        w.WriteNumber("rewardSum", Round(d.RewardSum));
        WriteOptional(w, "meanReward", d.Decisions > 0 ? d.RewardSum / d.Decisions : null);
        w.WriteNumber("modelVersion", d.ModelVersion);
        w.WriteNumber("turnsRun", d.TurnsRun);
        w.WriteNumber("turnsPromoted", d.TurnsPromoted);
        w.WriteNumber("rolledBack", d.RolledBack);
        w.WriteNumber("rivals", d.Rivals);
        WriteSignals(w, d.ImplicitSignals, d.ExplicitSignals, d.Signals);
        w.WriteEndObject();
    }

    private static void WriteSignals(Utf8JsonWriter w, long @implicit, long @explicit, IReadOnlyDictionary<string, long> byType)
    {
        w.WriteStartObject("signals");
        w.WriteNumber("implicit", @implicit);
        w.WriteNumber("explicit", @explicit);
        w.WriteStartObject("byType");
        foreach (var (type, count) in byType.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            w.WriteNumber(type, count);
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteEstimate(Utf8JsonWriter w, Estimate e)
    {
        w.WriteStartObject();
        w.WriteNumber("value", Round(e.Value));
        w.WriteNumber("lower", Round(e.Lower));
        w.WriteNumber("upper", Round(e.Upper));
        w.WriteEndObject();
    }

    /// <summary>A number, or null when there is none (an int prints without a fraction either way).</summary>
    private static void WriteOptional(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, Round(v));
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static double Round(double value) => Math.Round(value, 6);
}

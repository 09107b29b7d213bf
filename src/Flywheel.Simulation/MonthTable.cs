using System.Globalization;

namespace Flywheel.Simulation;

/// <summary>The month table that <c>flywheel demo</c> and <c>flywheel simulate</c> print.</summary>
public static class MonthTable
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>
    /// The month table: for each product its monthly active users, mean reward per decision, serving model version and
    /// turns promoted that month (and rolled back, in brackets). One row per month; <c>-</c> before a product's launch.
    /// </summary>
    public static void Write(TextWriter output, SimulationResult result)
    {
        var header = new List<string> { "month" };
        foreach (var p in result.Products)
        {
            header.AddRange([$"{p.Spec.Name} users", $"{p.Spec.Name} reward", $"{p.Spec.Name} model", $"{p.Spec.Name} turns"]);
        }
        var rows = new List<string[]> { header.ToArray() };
        for (var m = 1; m <= result.MonthCount; m++)
        {
            var row = new List<string> { SimulationCalendar.MonthName(m) };
            foreach (var p in result.Products)
            {
                var month = p.Months[m - 1];
                if (!month.Launched)
                {
                    row.AddRange(["-", "-", "-", "-"]);
                    continue;
                }
                row.Add(month.ActiveUsers.ToString("N0", C));
                row.Add(month.MeanReward is { } r ? r.Value.ToString("F3", C) : "-");
                row.Add(month.ModelVersion is { } v ? "v" + v.ToString(C) : "-");
                row.Add(month.TurnsPromoted.ToString(C) + (month.RolledBack > 0 ? $" (-{month.RolledBack.ToString(C)})" : ""));
            }
            rows.Add(row.ToArray());
        }
        var widths = Enumerable.Range(0, header.Count).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
        {
            output.WriteLine(string.Join("  ", row.Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]))).TrimEnd());
        }
    }
}

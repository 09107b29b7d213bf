using Flywheel.Core;

namespace Flywheel.Evaluation.Health;

/// <summary>
/// PSI of each context feature between two samples of decisions: numbers and booleans on 10 quantile bins of the
/// baseline, strings and string arrays by category. A feature missing from a context is the category "(absent)" for
/// categorical features and is left out for numeric ones.
/// </summary>
public static class FeatureDrifts
{
    /// <summary>How many features the report lists: those that moved most.</summary>
    public const int Top = 5;

    /// <summary>The fewest values a numeric feature needs on each side to be compared.</summary>
    public const int MinimumValues = 50;

    private const string Absent = "(absent)";

    /// <summary>
    /// The two spans of time whose contexts are compared: the newest week against the week before when the log spans
    /// two weeks or more, else the newest day against the day before when it spans two days, else the log's two halves.
    /// Whole weeks and days, so that hour-of-day and day-of-week features do not look shifted merely because one sample
    /// holds the evening and the other the afternoon. Null when the log spans no time.
    /// </summary>
    public static (DateTimeOffset BaselineFrom, DateTimeOffset RecentFrom, DateTimeOffset To)? Windows(DateTimeOffset first, DateTimeOffset last)
    {
        var span = last - first;
        if (span <= TimeSpan.Zero)
        {
            return null;
        }
        var window = span >= TimeSpan.FromDays(14) ? TimeSpan.FromDays(7)
            : span >= TimeSpan.FromDays(2) ? TimeSpan.FromDays(1)
            : span / 2;
        // Just past the newest decision, so it falls in the recent window.
        var to = last + TimeSpan.FromTicks(1);
        return (to - 2 * window, to - window, to);
    }

    /// <summary>The <see cref="Top"/> features by PSI, largest first (empty when either sample is).</summary>
    public static IReadOnlyList<FeatureDrift> Compute(IReadOnlyList<Features> baseline, IReadOnlyList<Features> recent)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(recent);
        if (baseline.Count == 0 || recent.Count == 0)
        {
            return [];
        }
        var expected = Collect(baseline);
        var actual = Collect(recent);
        var drifts = new List<FeatureDrift>();
        foreach (var (name, e) in expected.Numbers)
        {
            if (e.Count >= MinimumValues && actual.Numbers.TryGetValue(name, out var a) && a.Count >= MinimumValues)
            {
                drifts.Add(new FeatureDrift(name, PopulationStability.Compute(e.ToArray(), a.ToArray())));
            }
        }
        foreach (var name in expected.Categories.Keys.Union(actual.Categories.Keys))
        {
            var e = Counts(expected, name, baseline.Count);
            var a = Counts(actual, name, recent.Count);
            drifts.Add(new FeatureDrift(name, PopulationStability.FromCategories(e, a)));
        }
        return [.. drifts.OrderByDescending(d => d.Psi).ThenBy(d => d.Feature, StringComparer.Ordinal).Take(Top)];
    }

    private static Dictionary<string, long> Counts(Sample sample, string name, int contexts)
    {
        var counts = sample.Categories.TryGetValue(name, out var c) ? new Dictionary<string, long>(c, StringComparer.Ordinal) : new Dictionary<string, long>(StringComparer.Ordinal);
        var present = sample.Present.GetValueOrDefault(name);
        if (present < contexts)
        {
            counts[Absent] = counts.GetValueOrDefault(Absent) + contexts - present;
        }
        return counts;
    }

    private sealed class Sample
    {
        public Dictionary<string, List<double>> Numbers { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Dictionary<string, long>> Categories { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, int> Present { get; } = new(StringComparer.Ordinal);
    }

    private static Sample Collect(IReadOnlyList<Features> contexts)
    {
        var sample = new Sample();
        foreach (var context in contexts)
        {
            foreach (var (ns, features) in context)
            {
                foreach (var (feature, value) in features)
                {
                    var name = $"{ns}.{feature}";
                    switch (value.Kind)
                    {
                        case FeatureValueKind.Number or FeatureValueKind.Boolean:
                            Add(sample.Numbers, name, value.Number);
                            break;
                        case FeatureValueKind.String:
                            Count(sample, name, value.Text!);
                            break;
                        default:
                            foreach (var s in value.Strings)
                            {
                                Count(sample, name, s);
                            }
                            break;
                    }
                }
            }
        }
        return sample;
    }

    private static void Add(Dictionary<string, List<double>> numbers, string name, double value)
    {
        if (!numbers.TryGetValue(name, out var list))
        {
            numbers[name] = list = [];
        }
        list.Add(value);
    }

    private static void Count(Sample sample, string name, string category)
    {
        if (!sample.Categories.TryGetValue(name, out var counts))
        {
            sample.Categories[name] = counts = new Dictionary<string, long>(StringComparer.Ordinal);
        }
        counts[category] = counts.GetValueOrDefault(category) + 1;
        sample.Present[name] = sample.Present.GetValueOrDefault(name) + 1;
    }
}

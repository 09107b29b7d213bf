using Flywheel.Core;

namespace Flywheel.Simulation;

/// <summary>Adds a product's days up into calendar months.</summary>
internal static class Months
{
    public static IReadOnlyList<ProductMonth> Aggregate(IReadOnlyList<ProductDay> days, IReadOnlyDictionary<int, int> monthlyActive)
    {
        var months = new List<ProductMonth>();
        foreach (var group in days.GroupBy(d => SimulationCalendar.MonthOf(d.Day)))
        {
            var launched = group.Where(d => d.Launched).ToList();
            if (launched.Count == 0)
            {
                months.Add(new ProductMonth { Month = group.Key, Launched = false });
                continue;
            }
            long n = launched.Sum(d => d.Decisions);
            var sum = launched.Sum(d => d.RewardSum);
            var squares = launched.Sum(d => d.RewardSquares);
            Estimate? reward = null;
            if (n > 0)
            {
                var (mean, variance) = SimulationResult.MeanAndVariance(n, sum, squares);
                var half = Estimate.Z95 * Math.Sqrt(variance / n);
                reward = new Estimate(mean, mean - half, mean + half);
            }
            var signals = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var (type, count) in launched.SelectMany(d => d.Signals))
            {
                signals[type] = signals.GetValueOrDefault(type) + count;
            }
            var last = launched[^1];
            months.Add(new ProductMonth
            {
                Month = group.Key,
                Launched = true,
                ActiveUsers = monthlyActive.GetValueOrDefault(group.Key),
                DailyActiveUsers = launched.Average(d => d.ActiveUsers),
                Users = last.Users,
                NewUsers = launched.Sum(d => d.NewUsers),
                LostUsers = launched.Sum(d => d.LostUsers),
                ReturnVisits = launched.Sum(d => d.ReturnVisits),
                Decisions = n,
                EnjoyedShare = n > 0 ? (double)launched.Sum(d => d.Enjoyed) / n : null,
                Signals = signals,
                ImplicitSignals = launched.Sum(d => d.ImplicitSignals),
                ExplicitSignals = launched.Sum(d => d.ExplicitSignals),
                MeanReward = reward,
                Truth = n > 0 ? new TruthFigures(launched.Sum(d => d.ExpectedRewardSum) / n, launched.Sum(d => d.OracleRewardSum) / n, launched.Sum(d => d.UniformRewardSum) / n) : null,
                ModelVersion = last.ModelVersion,
                TurnsRun = launched.Sum(d => d.TurnsRun),
                TurnsPromoted = launched.Sum(d => d.TurnsPromoted),
                RolledBack = launched.Sum(d => d.RolledBack),
                Rivals = last.Rivals,
            });
        }
        return months;
    }
}

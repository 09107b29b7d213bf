using Flywheel.Core;

namespace Flywheel.Simulation;

/// <summary>What one product did on one day. Sums, so that any period's figures add up from its days.</summary>
public sealed record ProductDay
{
    /// <summary>Day number, 1-based.</summary>
    public required int Day { get; init; }

    /// <summary>Whether the product existed that day.</summary>
    public required bool Launched { get; init; }

    /// <summary>Users who visited that day (daily active users).</summary>
    public int ActiveUsers { get; init; }

    /// <summary>Users who had not left by the end of the day.</summary>
    public int Users { get; init; }

    /// <summary>Users who arrived that day.</summary>
    public int NewUsers { get; init; }

    /// <summary>Users who left for good that day (unhappy, or won over by a rival).</summary>
    public int LostUsers { get; init; }

    /// <summary>Visits by users who had visited before (each sends a <c>return_visit</c> signal).</summary>
    public int ReturnVisits { get; init; }

    /// <summary>Visits that enjoyed at least the satisfied share of what they were shown.</summary>
    public int SatisfiedVisits { get; init; }

    /// <summary>Decisions the engine made.</summary>
    public long Decisions { get; init; }

    /// <summary>Items the users enjoyed.</summary>
    public long Enjoyed { get; init; }

    /// <summary>Signals sent to the engine, by type (empty when the product captures nothing).</summary>
    public IReadOnlyDictionary<string, long> Signals { get; init; } = new SortedDictionary<string, long>(StringComparer.Ordinal);

    /// <summary>Implicit signals sent.</summary>
    public long ImplicitSignals { get; init; }

    /// <summary>Explicit signals sent.</summary>
    public long ExplicitSignals { get; init; }

    /// <summary>Sum of the decisions' rewards under the loop's reward rule (what users did, whether or not it was sent).</summary>
    public double RewardSum { get; init; }

    /// <summary>Sum of squared rewards, for intervals.</summary>
    public double RewardSquares { get; init; }

    /// <summary>Sum over decisions of the served item's expected reward (the world's truth, free of the coin flips).</summary>
    public double ExpectedRewardSum { get; init; }

    /// <summary>Sum over decisions of the best candidate's expected reward: what a perfect model would have earned.</summary>
    public double OracleRewardSum { get; init; }

    /// <summary>Sum over decisions of the candidates' mean expected reward: what a random pick would have earned.</summary>
    public double UniformRewardSum { get; init; }

    /// <summary>The model version serving at the end of the day.</summary>
    public int ModelVersion { get; init; }

    /// <summary>Turns the engine ran that day that judged data (promoted or rejected).</summary>
    public int TurnsRun { get; init; }

    /// <summary>Turns that promoted a candidate that day.</summary>
    public int TurnsPromoted { get; init; }

    /// <summary>Champions rolled back that day.</summary>
    public int RolledBack { get; init; }

    /// <summary>Rival clones in the product's market.</summary>
    public int Rivals { get; init; }
}

/// <summary>One product's figures over one calendar month.</summary>
public sealed record ProductMonth
{
    /// <summary>Month number, 1-based from the start of the run.</summary>
    public required int Month { get; init; }

    /// <summary>Whether the product existed during any of the month.</summary>
    public required bool Launched { get; init; }

    /// <summary>Distinct users who visited in the month (monthly active users).</summary>
    public int ActiveUsers { get; init; }

    /// <summary>Mean daily active users over the month's days since launch.</summary>
    public double DailyActiveUsers { get; init; }

    /// <summary>Users present at the month's end.</summary>
    public int Users { get; init; }

    /// <summary>Users who arrived in the month.</summary>
    public int NewUsers { get; init; }

    /// <summary>Users who left in the month.</summary>
    public int LostUsers { get; init; }

    /// <summary>Visits by returning users.</summary>
    public int ReturnVisits { get; init; }

    /// <summary>Decisions made.</summary>
    public long Decisions { get; init; }

    /// <summary>Share of decisions whose item the user enjoyed; null without decisions.</summary>
    public double? EnjoyedShare { get; init; }

    /// <summary>Signals sent, by type.</summary>
    public IReadOnlyDictionary<string, long> Signals { get; init; } = new SortedDictionary<string, long>(StringComparer.Ordinal);

    /// <summary>Implicit signals sent.</summary>
    public long ImplicitSignals { get; init; }

    /// <summary>Explicit signals sent.</summary>
    public long ExplicitSignals { get; init; }

    /// <summary>Mean reward per decision with its 95% normal interval; null without decisions.</summary>
    public Estimate? MeanReward { get; init; }

    /// <summary>
    /// The world's truth about the month's decisions (null without decisions): the served items' mean expected reward,
    /// a perfect model's and a random pick's. (served − uniform) / (oracle − uniform) is the share of the possible lift
    /// the product reached.
    /// </summary>
    public TruthFigures? Truth { get; init; }

    /// <summary>The model version serving at the month's end; null before launch.</summary>
    public int? ModelVersion { get; init; }

    /// <summary>Turns that judged data in the month.</summary>
    public int TurnsRun { get; init; }

    /// <summary>Turns that promoted a candidate in the month.</summary>
    public int TurnsPromoted { get; init; }

    /// <summary>Champions rolled back in the month.</summary>
    public int RolledBack { get; init; }

    /// <summary>Rival clones at the month's end.</summary>
    public int Rivals { get; init; }
}

/// <summary>Expected rewards per decision that only the world knows.</summary>
/// <param name="Served">Mean expected reward of what was served.</param>
/// <param name="Oracle">Mean expected reward of the best candidate.</param>
/// <param name="Uniform">Mean expected reward of a random candidate.</param>
public sealed record TruthFigures(double Served, double Oracle, double Uniform)
{
    /// <summary>Share of the possible lift over a random pick that was reached (0 random, 1 perfect).</summary>
    public double LiftShare => Oracle - Uniform <= 1e-12 ? 0 : (Served - Uniform) / (Oracle - Uniform);
}

/// <summary>One entry of a product's turn ledger, placed on the simulation's calendar.</summary>
/// <param name="Day">The day the entry was written.</param>
/// <param name="Turn">The ledger entry.</param>
public sealed record SimulatedTurn(int Day, TurnRecord Turn);

/// <summary>Everything one product did.</summary>
public sealed record ProductResult
{
    /// <summary>The product as specified.</summary>
    public required ProductSpec Spec { get; init; }

    /// <summary>The loop the product used.</summary>
    public required LoopConfig Loop { get; init; }

    /// <summary>Where its store lives.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>One entry per day of the run.</summary>
    public required IReadOnlyList<ProductDay> Days { get; init; }

    /// <summary>One entry per calendar month of the run.</summary>
    public required IReadOnlyList<ProductMonth> Months { get; init; }

    /// <summary>The turn ledger.</summary>
    public required IReadOnlyList<SimulatedTurn> Turns { get; init; }

    /// <summary>The loop's health report at the end of the run (null when the product never launched).</summary>
    public HealthReport? Health { get; init; }
}

/// <summary>The outcome of a scenario run.</summary>
public sealed record SimulationResult
{
    /// <summary>The scenario run.</summary>
    public required Scenario Scenario { get; init; }

    /// <summary>The settings of the run.</summary>
    public required SimulationOptions Options { get; init; }

    /// <summary>Every product, in the scenario's order.</summary>
    public required IReadOnlyList<ProductResult> Products { get; init; }

    /// <summary>The product with key <paramref name="key"/>.</summary>
    public ProductResult this[string key] => Products.First(p => p.Spec.Key == key);

    /// <summary>Number of calendar months covered.</summary>
    public int MonthCount => Products.Count == 0 ? 0 : Products[0].Months.Count;

    /// <summary>
    /// The difference of two products' mean reward per decision in a month (<paramref name="first"/> minus
    /// <paramref name="second"/>) with its Welch 95% interval; null when either served no decision.
    /// </summary>
    public Estimate? RewardDifference(string first, string second, int month)
    {
        var a = Moments(this[first], month);
        var b = Moments(this[second], month);
        if (a.N < 2 || b.N < 2)
        {
            return null;
        }
        var diff = a.Mean - b.Mean;
        var half = Estimate.Z95 * Math.Sqrt(a.Variance / a.N + b.Variance / b.N);
        return new Estimate(diff, diff - half, diff + half);
    }

    internal static (long N, double Mean, double Variance) Moments(ProductResult product, int month)
    {
        long n = 0;
        double sum = 0, squares = 0;
        foreach (var day in product.Days.Where(d => SimulationCalendar.MonthOf(d.Day) == month))
        {
            n += day.Decisions;
            sum += day.RewardSum;
            squares += day.RewardSquares;
        }
        var (mean, variance) = MeanAndVariance(n, sum, squares);
        return (n, mean, variance);
    }

    /// <summary>Mean and sample variance from a count, a sum and a sum of squares (zeros without data).</summary>
    internal static (double Mean, double Variance) MeanAndVariance(long n, double sum, double squares)
    {
        if (n == 0)
        {
            return (0, 0);
        }
        var mean = sum / n;
        return (mean, n > 1 ? Math.Max(0, (squares - n * mean * mean) / (n - 1)) : 0);
    }
}

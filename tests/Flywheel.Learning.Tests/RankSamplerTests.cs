using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Learning.Tests;

public class RankSamplerTests
{
    private static readonly float[] Costs = [-0.9f, -0.2f, -0.6f, -0.4f, -0.1f];

    public static TheoryData<string, double> Policies => new()
    {
        { "epsilon-greedy", 0 },
        { "epsilon-greedy", 0.2 },
        { "softmax", 0.1 },
        { "squarecb", 0.3 },
        { "none", 0.25 },
    };

    private static ExplorationConfig Exploration(string algorithm) => new()
    {
        Algorithm = LoopConfigJson.ParseName<ExplorationAlgorithm>(algorithm, "algorithm"),
        Epsilon = algorithm == "epsilon-greedy" ? 0.1 : null,
        Lambda = 3,
    };

    /// <summary>Every ordered choice of <paramref name="k"/> of <paramref name="n"/> indices.</summary>
    private static IEnumerable<int[]> Orders(int n, int k)
    {
        if (k == 0)
        {
            yield return [];
            yield break;
        }
        foreach (var rest in Orders(n, k - 1))
        {
            for (var i = 0; i < n; i++)
            {
                if (!rest.Contains(i))
                {
                    yield return [.. rest, i];
                }
            }
        }
    }

    private static double Joint(string algorithm, double rate, int[] order, int slots = 0)
    {
        var p = new double[order.Length];
        RankSampler.Probabilities(Costs, Exploration(algorithm), 50, slots == 0 ? order.Length : slots, rate, order, p);
        return p.Aggregate(1.0, (a, b) => a * b);
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Probabilities_EveryRankingOfThreeSlots_SumToOne(string algorithm, double rate)
        => Assert.Equal(1.0, Orders(Costs.Length, 3).Sum(o => Joint(algorithm, rate, o)), 12);

    [Theory]
    [MemberData(nameof(Policies))]
    public void Rank_ManyDraws_ServesEachRankingAsOftenAsItsLoggedProbabilitiesSay(string algorithm, double rate)
    {
        const int Draws = 40_000;
        var counts = new Dictionary<string, int>();
        var shuffled = 0;
        for (var d = 0; d < Draws; d++)
        {
            var seed = (ulong)d * 7919 + 17;
            var ranked = RankSampler.Rank(Costs, Exploration(algorithm), 50, 3, rate, i => Flywheel.Learning.Exploration.UniformFor(seed, i));
            var key = string.Join(",", ranked.Order);
            counts[key] = counts.GetValueOrDefault(key) + 1;
            shuffled += ranked.Intervened ? 1 : 0;
            // The logged probabilities are those of the ranking actually served.
            var p = new double[3];
            RankSampler.Probabilities(Costs, Exploration(algorithm), 50, 3, rate, ranked.Order, p);
            Assert.Equal(p, ranked.Probabilities);
        }
        foreach (var order in Orders(Costs.Length, 3))
        {
            var expected = Joint(algorithm, rate, order);
            var observed = counts.GetValueOrDefault(string.Join(",", order)) / (double)Draws;
            // Four binomial standard errors, plus a little for the rarest rankings.
            Assert.InRange(observed, expected - 4 * Math.Sqrt(expected * (1 - expected) / Draws) - 1e-4, expected + 4 * Math.Sqrt(expected * (1 - expected) / Draws) + 1e-4);
        }
        Assert.InRange(shuffled / (double)Draws, rate - 0.01, rate + 0.01);
    }

    [Fact]
    public void Rank_Shuffled_ServesTheBestKInSomeOrderAndSaysSo()
    {
        for (var d = 0; d < 200; d++)
        {
            var seed = (ulong)d;
            var ranked = RankSampler.Rank(Costs, Exploration("none"), 50, 3, 1 - 1e-9, i => Flywheel.Learning.Exploration.UniformFor(seed, i));
            Assert.True(ranked.Intervened);
            Assert.Equal([0, 2, 3], ranked.Order.Order());
        }
    }

    [Fact]
    public void Rank_NoExplorationNoShuffles_ServesTheBestOrderWithCertainty()
    {
        var ranked = RankSampler.Rank(Costs, Exploration("none"), 50, 4, 0, _ => 0.5);

        Assert.Equal([0, 2, 3, 1], ranked.Order);
        Assert.Equal([1.0, 1.0, 1.0, 1.0], ranked.Probabilities);
        Assert.False(ranked.Explored);
        Assert.False(ranked.Intervened);
    }

    [Fact]
    public void Rank_FewerCandidatesThanSlots_ServesThemAll()
        => Assert.Equal(2, RankSampler.Rank([0.1f, 0.2f], Exploration("none"), 0, 5, 0, _ => 0.5).Order.Length);

    [Fact]
    public void Probabilities_WithValues_GiveEachSlotsExpectedValueUnderThePolicy()
    {
        double[] values = [1, 2, 3, 4, 5];
        var order = new[] { 0, 2, 3 };
        var p = new double[3];
        var expected = new double[3];
        RankSampler.Probabilities(Costs, Exploration("epsilon-greedy"), 50, 3, 0.2, order, p, values, expected);

        // Slot 2's expectation, by enumerating its distribution: each remaining action's probability given slot 1's.
        var slot2 = 0.0;
        foreach (var a in new[] { 1, 2, 3, 4 })
        {
            slot2 += Joint("epsilon-greedy", 0.2, [0, a], 3) / Joint("epsilon-greedy", 0.2, [0], 3) * values[a];
        }
        Assert.Equal(slot2, expected[1], 12);
    }
}

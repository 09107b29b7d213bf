using Flywheel.Evaluation.Slates;

namespace Flywheel.Evaluation.Tests.Slates;

public sealed class SlateOffPolicyTests
{
    /// <summary>Two slates of two slots, with every probability chosen by hand.</summary>
    private static readonly LoggedSlate[] ByHand =
    [
        new()
        {
            Rewards = [1, 0],
            BehaviorPrefix = [0.5, 0.2], TargetPrefix = [0.8, 0.4],
            BehaviorMarginal = [0.5, 0.3], TargetMarginal = [0.8, 0.45],
            ModelReward = [0.5, 0.2], ModelRewardUnderTarget = [0.6, 0.3],
        },
        new()
        {
            Rewards = [0, 1],
            BehaviorPrefix = [0.25, 0.05], TargetPrefix = [0.1, 0.05],
            BehaviorMarginal = [0.25, 0.2], TargetMarginal = [0.1, 0.3],
            ModelReward = [0.1, 0.4], ModelRewardUnderTarget = [0.2, 0.5],
        },
    ];

    [Theory]
    // SIPS: slate weights 0.4/0.2 = 2 and 0.05/0.05 = 1; (2·1 + 1·1) / 2.
    [InlineData(SlateEstimator.Sips, 1.5)]
    // IIPS: slot weights 1.6, 1.5 and 0.4, 1.5; (1·1.6 + 1·1.5) / 2.
    [InlineData(SlateEstimator.Iips, 1.55)]
    // RIPS: prefix weights 1.6, 2 and 0.4, 1; (1·1.6 + 1·1) / 2.
    [InlineData(SlateEstimator.Rips, 1.3)]
    // SNSIPS: the mean weight over the four slots is (2 + 2 + 1 + 1) / 4 = 1.5; 1.5 / 1.5.
    [InlineData(SlateEstimator.SelfNormalizedSips, 1.0)]
    // SNIIPS: mean weights per slot (1.6 + 0.4) / 2 = 1 and (1.5 + 1.5) / 2 = 1.5; (1.6 / 1 + 1.5 / 1.5) / 2.
    [InlineData(SlateEstimator.SelfNormalizedIips, 1.3)]
    // SNRIPS: mean weights per slot 1 and (2 + 1) / 2 = 1.5; (1.6 / 1 + 1 / 1.5) / 2.
    [InlineData(SlateEstimator.SelfNormalizedRips, (1.6 + (1 / 1.5)) / 2)]
    // Cascade DR: slate 1: 1.6·(1 − 0.5) + 0.6 = 1.4 and 2·(0 − 0.2) + 1.6·0.3 = 0.08; slate 2: 0.4·(0 − 0.1) + 0.2 = 0.16
    // and 1·(1 − 0.4) + 0.4·0.5 = 0.8; (1.48 + 0.96) / 2.
    [InlineData(SlateEstimator.CascadeDoublyRobust, 1.22)]
    public void Estimate_HandComputedSlates_GivesTheHandComputedValue(SlateEstimator estimator, double expected)
    {
        Assert.Equal(expected, SlateOffPolicy.Estimate(ByHand, estimator).Value, 12);
    }

    /// <summary>
    /// A world of 5 items with known relevance and position-based clicks: slot l is examined with probability θ_l and a
    /// examined item is clicked with its relevance, so each slot's reward depends only on its own action (every
    /// estimator's assumption holds). The logger shows uniformly random orders of 3 of the 5.
    /// </summary>
    private static readonly double[] Relevance = [0.9, 0.6, 0.4, 0.2, 0.1];
    private static readonly double[] Examination = [1.0, 0.6, 0.3];

    /// <summary>
    /// Logs one slate; the reward model is the world's own expectation θ_l · relevance, and
    /// <paramref name="expected"/> gives the target's expected relevance at slot l after the logged slots above it.
    /// </summary>
    private static LoggedSlate Log(Random random, Func<int[], (double[] Prefix, double[] Marginal)> target, Func<int[], int, double> expected)
    {
        var order = Enumerable.Range(0, Relevance.Length).OrderBy(_ => random.Next()).Take(Examination.Length).ToArray();
        var prefix = UniformPrefix(order.Length);
        var (targetPrefix, targetMarginal) = target(order);
        return new LoggedSlate
        {
            Rewards = [.. order.Select((item, l) => random.NextDouble() < Examination[l] * Relevance[item] ? 1.0 : 0.0)],
            BehaviorPrefix = prefix,
            TargetPrefix = targetPrefix,
            BehaviorMarginal = [.. order.Select(_ => 1.0 / Relevance.Length)],
            TargetMarginal = targetMarginal,
            ModelReward = [.. order.Select((item, l) => Examination[l] * Relevance[item])],
            ModelRewardUnderTarget = [.. order.Select((_, l) => Examination[l] * expected(order, l))],
        };
    }

    /// <summary>The probability of each prefix of a uniformly random order of the items: 1/5, 1/(5·4), 1/(5·4·3).</summary>
    private static double[] UniformPrefix(int slots)
    {
        var prefix = new double[slots];
        var p = 1.0;
        for (var l = 0; l < slots; l++)
        {
            p /= Relevance.Length - l;
            prefix[l] = p;
        }
        return prefix;
    }

    /// <summary>The ranking by relevance puts item l at slot l, whatever is above.</summary>
    private static double ByRelevanceExpected(int[] order, int slot) => Relevance[slot];

    /// <summary>The logger fills slot l with one of the items not above it, uniformly.</summary>
    private static double UniformExpected(int[] order, int slot)
        => Enumerable.Range(0, Relevance.Length).Where(a => !order[..slot].Contains(a)).Average(a => Relevance[a]);

    /// <summary>The target ranks by relevance: items 0, 1, 2. A prefix has probability 1 when it matches, else 0.</summary>
    private static (double[], double[]) ByRelevance(int[] order)
    {
        var prefix = new double[order.Length];
        var matches = true;
        for (var l = 0; l < order.Length; l++)
        {
            matches &= order[l] == l;
            prefix[l] = matches ? 1 : 0;
        }
        return (prefix, [.. order.Select((item, l) => item == l ? 1.0 : 0.0)]);
    }

    [Theory]
    [InlineData(SlateEstimator.Sips)]
    [InlineData(SlateEstimator.Iips)]
    [InlineData(SlateEstimator.Rips)]
    [InlineData(SlateEstimator.SelfNormalizedSips)]
    [InlineData(SlateEstimator.SelfNormalizedIips)]
    [InlineData(SlateEstimator.SelfNormalizedRips)]
    [InlineData(SlateEstimator.CascadeDoublyRobust)]
    public void Estimate_RankingByRelevanceFromUniformLogs_FindsItsTrueValue(SlateEstimator estimator)
    {
        var random = new Random(7);
        var slates = Enumerable.Range(0, 30_000).Select(_ => Log(random, ByRelevance, ByRelevanceExpected)).ToArray();
        var truth = Examination.Select((theta, l) => theta * Relevance[l]).Sum(); // 0.9 + 0.36 + 0.12

        var estimate = SlateOffPolicy.Estimate(slates, estimator);

        Assert.True(estimate.Contains(truth), $"{estimator}: {estimate} misses {truth}");
        Assert.InRange(estimate.Upper - estimate.Lower, 0.001, 0.5);
    }

    [Fact]
    public void CascadeDoublyRobust_WithTheWorldsModel_IsTighterThanRips_AndWithNoModelIsRips()
    {
        var random = new Random(9);
        var slates = Enumerable.Range(0, 30_000).Select(_ => Log(random, ByRelevance, ByRelevanceExpected)).ToArray();

        var rips = SlateOffPolicy.Estimate(slates, SlateEstimator.Rips);
        var dr = SlateOffPolicy.Estimate(slates, SlateEstimator.CascadeDoublyRobust);
        // The model removes the mean of each weighted term, not the clicks' own noise (about 0.080 wide against 0.110).
        Assert.True(dr.Upper - dr.Lower < 0.85 * (rips.Upper - rips.Lower), $"DR {dr} vs RIPS {rips}");

        var noModel = slates.Select(s => s with { ModelReward = [0, 0, 0], ModelRewardUnderTarget = [0, 0, 0] }).ToArray();
        Assert.Equal(rips.Value, SlateOffPolicy.Estimate(noModel, SlateEstimator.CascadeDoublyRobust).Value, 12);
    }

    [Theory]
    [InlineData(SlateEstimator.Sips)]
    [InlineData(SlateEstimator.Iips)]
    [InlineData(SlateEstimator.Rips)]
    [InlineData(SlateEstimator.SelfNormalizedRips)]
    public void Estimate_TargetIsTheLogger_IsTheLoggedMeanInsideItsInterval(SlateEstimator estimator)
    {
        var random = new Random(3);
        var slates = Enumerable.Range(0, 2000).Select(_ => Log(random, order => (UniformPrefix(order.Length), [.. order.Select(_ => 1.0 / Relevance.Length)]), UniformExpected)).ToArray();
        var logged = slates.Average(s => s.Rewards.Sum());
        // The value of uniform orders: each item reaches each slot with probability 1/5.
        var truth = Examination.Sum() * Relevance.Average();

        var estimate = SlateOffPolicy.Estimate(slates, estimator);

        Assert.Equal(logged, estimate.Value, 12);
        Assert.True(estimate.Contains(logged) && estimate.Contains(truth), $"{estimate} vs logged {logged}, truth {truth}");
    }

    [Fact]
    public void Estimate_SameSeed_SameInterval_OtherSeed_AnotherDraw()
    {
        var random = new Random(5);
        var slates = Enumerable.Range(0, 500).Select(_ => Log(random, ByRelevance, ByRelevanceExpected)).ToArray();

        var a = SlateOffPolicy.Estimate(slates, SlateEstimator.Rips, seed: 11);
        var b = SlateOffPolicy.Estimate(slates, SlateEstimator.Rips, seed: 11);
        var c = SlateOffPolicy.Estimate(slates, SlateEstimator.Rips, seed: 12);

        Assert.Equal(a, b);
        Assert.Equal(a.Value, c.Value);
        Assert.NotEqual(a.Lower, c.Lower);
    }

    [Fact]
    public void Estimate_OneSlate_HasNoInterval_NoSlates_HasNoValue()
    {
        var one = SlateOffPolicy.Estimate([ByHand[0]], SlateEstimator.Sips);
        Assert.Equal(2.0, one.Value);
        Assert.False(one.IsBounded);
        Assert.True(double.IsNaN(SlateOffPolicy.Estimate([], SlateEstimator.Sips).Value));
    }

    public static TheoryData<LoggedSlate, SlateEstimator, string> Invalid => new()
    {
        { ByHand[0] with { BehaviorPrefix = [0.5, 0] }, SlateEstimator.Rips, "slate 1, slot 2: behaviour prefix probability 0 lies outside (0, 1]" },
        { ByHand[0] with { TargetPrefix = [0.8, 1.2] }, SlateEstimator.Sips, "slate 1, slot 2: target prefix probability 1.2 lies outside [0, 1]" },
        { ByHand[0] with { BehaviorPrefix = [0.2, 0.5] }, SlateEstimator.Rips, "slate 1, slot 2: a prefix probability rises down the slate" },
        { ByHand[0] with { Rewards = [1, double.NaN] }, SlateEstimator.Sips, "slate 1, slot 2: the reward is not a finite number" },
        { ByHand[0] with { BehaviorMarginal = null }, SlateEstimator.Iips, "slate 1: every list needs one entry per slot (2), the item-position marginals included" },
        { ByHand[0] with { Rewards = [], BehaviorPrefix = [], TargetPrefix = [] }, SlateEstimator.Sips, "slate 1 has no slots" },
        { ByHand[0] with { ModelRewardUnderTarget = [0.6] }, SlateEstimator.CascadeDoublyRobust, "slate 1: every list needs one entry per slot (2), the reward model's estimates included" },
        { ByHand[0] with { ModelReward = [0.5, double.PositiveInfinity] }, SlateEstimator.CascadeDoublyRobust, "slate 1, slot 2: a reward model's estimate is not a finite number" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Estimate_InvalidSlate_NamesSlateAndSlot(LoggedSlate slate, SlateEstimator estimator, string says)
    {
        var error = Assert.Throws<ArgumentException>(() => SlateOffPolicy.Estimate([slate], estimator));
        Assert.StartsWith(says, error.Message, StringComparison.Ordinal);
    }
}

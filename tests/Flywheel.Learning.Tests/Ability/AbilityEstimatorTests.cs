using Flywheel.Core;

namespace Flywheel.Learning.Tests.Ability;

public sealed class AbilityEstimatorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly AbilityConfig Elo = new();

    private static Features Level(double level) => new() { ["item"] = { ["level"] = level } };

    [Fact]
    public void Learn_FirstAnswerOfNewLearnerAndItem_MovesBothByAlphaTimesTheSurprise()
    {
        var e = new AbilityEstimator();

        var p = e.Learn("u", "i", null, correct: true, T0, null, Elo);

        // θ = d = 0, no guessing: P = 0.5; K(0) = 0.8, so θ → 0.4 and d → −0.4 (docs/ability.md, "What the loop learns").
        Assert.Equal(0.5, p, 12);
        Assert.Equal(0.4, e.Ability("u"), 12);
        Assert.Equal(-0.4, e.Difficulty("i", null, AbilityModel.Elo), 12);
    }

    [Fact]
    public void Learn_WithGuessing_UsesTheGuessFloor()
    {
        var e = new AbilityEstimator();

        var p = e.Learn("u", "i", null, correct: true, T0, null, Elo with { Guess = 0.25 });

        // Four options: P = 0.25 + 0.75·0.5 = 0.625; a right answer moves θ by 0.8·0.375 = 0.3.
        Assert.Equal(0.625, p, 12);
        Assert.Equal(0.3, e.Ability("u"), 12);
        Assert.Equal(-0.3, e.Difficulty("i", null, AbilityModel.Elo), 12);
    }

    [Fact]
    public void LearnerStep_NeverFallsBelowTheFloor_SoAbilityKeepsFollowingGrowth()
    {
        Assert.Equal(0.8, AbilityEstimator.LearnerStep(0), 12);
        Assert.Equal(AbilityEstimator.LearnerFloor, AbilityEstimator.LearnerStep(1000), 12);
    }

    [Fact]
    public void NewLearner_StartsAtTheLearnersMeanAbility()
    {
        var e = new AbilityEstimator();
        e.Learn("a", "i", null, true, T0, null, Elo);
        e.Learn("b", "j", null, true, T0, null, Elo);
        var mean = (e.Ability("a") + e.Ability("b")) / 2;

        Assert.Equal(mean, e.Ability("newcomer"), 12);
        Assert.Equal(mean, e.MeanAbility, 12);
        e.Forget("a");
        Assert.Equal(e.Ability("b"), e.MeanAbility, 12);
    }

    [Fact]
    public void Step_DecaysWithAnswers()
    {
        Assert.Equal(0.8, AbilityEstimator.Step(0), 12);
        Assert.Equal(0.4, AbilityEstimator.Step(20), 12);
        Assert.Equal(0.8 / 11, AbilityEstimator.Step(200), 12);
    }

    [Fact]
    public void Learn_RepeatAnswer_MovesAbilityButNotDifficulty()
    {
        var e = new AbilityEstimator();
        e.Learn("u", "i", null, true, T0, null, Elo);
        var difficulty = e.Difficulty("i", null, AbilityModel.Elo);
        var ability = e.Ability("u");

        e.Learn("u", "i", null, true, T0.AddDays(1), null, Elo);

        Assert.Equal(difficulty, e.Difficulty("i", null, AbilityModel.Elo));
        Assert.True(e.Ability("u") > ability);
        Assert.Equal(1, e.Item("loop", "i", AbilityModel.Elo)!.Answers);
        Assert.Equal(2, e.Learner("loop", "u", T0.AddDays(1), Elo)!.Answers);
    }

    [Fact]
    public void AdjustedTarget_MovesAgainstRecentSuccess_AsProsoDoes()
    {
        var e = new AbilityEstimator();
        Assert.Equal(0.65, e.AdjustedTarget("nobody", 0.65));
        // Ten right answers in a row: recent success near 1, so the target drops well below 0.65.
        for (var i = 0; i < 10; i++)
        {
            e.Learn("u", $"i{i}", null, true, T0.AddMinutes(i), null, Elo);
        }
        var recent = e.Learner("loop", "u", T0.AddHours(1), Elo)!.RecentSuccess;
        var room = 1 - 0.65;
        Assert.Equal(Math.Clamp(0.65 + (0.65 - recent) / room * (1 - room), 0.01, 0.99), e.AdjustedTarget("u", 0.65), 12);
        Assert.True(e.AdjustedTarget("u", 0.65) < 0.2);
    }

    [Fact]
    public void Estimate_ShrinksItsIntervalWithAnswers()
    {
        var e = new AbilityEstimator();
        e.Learn("u", "i0", null, true, T0, null, Elo);
        var one = e.Learner("loop", "u", T0, Elo)!.Ability;
        for (var i = 1; i < 50; i++)
        {
            e.Learn("u", $"i{i}", null, i % 3 != 0, T0.AddMinutes(i), null, Elo);
        }
        var fifty = e.Learner("loop", "u", T0.AddHours(1), Elo)!.Ability;

        Assert.True(fifty.StandardError < one.StandardError / 2.5);
        // Fifty answers carry more information than the Elo step's own noise allows: the step K(50) bounds the error.
        var k = AbilityEstimator.LearnerStep(50);
        Assert.Equal(Math.Sqrt(k / (2 - k / 4)), fifty.StandardError, 12);
        Assert.Equal(fifty.Value - 1.959964 * fifty.StandardError, fifty.Lower, 12);
        Assert.True(one.StandardError < 1); // the unit prior plus one answer's information
    }

    [Fact]
    public void Irt_NewItem_StartsWhereItsFeaturesPutIt()
    {
        // Items whose level predicts their difficulty: after answers on 40 items, an unseen item of level 3 is judged
        // harder than an unseen item of level −3 under irt, while elo knows nothing of either.
        var irt = Elo with { Model = AbilityModel.Irt };
        var e = new AbilityEstimator();
        var random = new Random(7);
        for (var n = 0; n < 4000; n++)
        {
            var user = $"u{n % 100}";
            var level = random.Next(-3, 4);
            var item = $"i{level}-{random.Next(6)}";
            var p = AbilityEstimator.Success(-level * 0.8, 0);
            e.Learn(user, item, Level(level), random.NextDouble() < p, T0.AddMinutes(n), null, irt);
        }

        var hard = e.Difficulty("new-hard", Level(3), AbilityModel.Irt);
        var easy = e.Difficulty("new-easy", Level(-3), AbilityModel.Irt);

        Assert.True(hard - easy > 2, $"hard {hard}, easy {easy}");
        Assert.Equal(0, e.Difficulty("new-hard", Level(3), AbilityModel.Elo));
        Assert.Equal(hard, e.Item("loop", "i3-0", AbilityModel.Irt)!.FromFeatures, 12);
    }

    [Fact]
    public void Estimates_OnSimulatedAnswers_RankLearnersAndItemsLikeTheTruth()
    {
        var random = new Random(11);
        var abilities = Enumerable.Range(0, 60).Select(_ => Normal(random)).ToArray();
        var difficulties = Enumerable.Range(0, 200).Select(_ => Normal(random) * 1.2).ToArray();
        var e = new AbilityEstimator();
        for (var round = 0; round < 200; round++)
        {
            for (var u = 0; u < abilities.Length; u++)
            {
                var i = random.Next(difficulties.Length);
                var p = AbilityEstimator.Success(abilities[u] - difficulties[i], 0);
                e.Learn($"u{u}", $"i{i}", null, random.NextDouble() < p, T0.AddMinutes(round), null, Elo);
            }
        }

        var learners = Spearman(abilities, [.. abilities.Select((_, u) => e.Ability($"u{u}"))]);
        var items = Spearman(difficulties, [.. difficulties.Select((_, i) => e.Difficulty($"i{i}", null, AbilityModel.Elo))]);

        Assert.True(learners > 0.9, $"learners {learners}");
        Assert.True(items > 0.85, $"items {items}");
    }

    [Fact]
    public void Learn_AnswerStampedBeforeTheLastReview_IsReviewedAtTheLastReview()
    {
        var e = new AbilityEstimator();
        e.Learn("u", "i", null, true, T0.AddDays(3), null, Elo);

        e.Learn("u", "i", null, false, T0, null, Elo);
        var review = Assert.Single(e.Reviews("u", T0.AddYears(1), Elo));

        Assert.Equal(2, review.Reviews);
        Assert.Equal(T0.AddDays(3), review.LastReview);
        Assert.Equal(T0.AddDays(3), e.Learner("loop", "u", T0.AddDays(4), Elo)!.LastAnswerAt);
    }

    [Fact]
    public void Forget_RemovesTheLearner()
    {
        var e = new AbilityEstimator();
        e.Learn("u", "i", null, true, T0, null, Elo);

        Assert.True(e.Forget("u"));
        Assert.Null(e.Learner("loop", "u", T0, Elo));
        Assert.False(e.Forget("u"));
        Assert.NotNull(e.Item("loop", "i", AbilityModel.Elo));
    }

    internal static double Normal(Random random)
        => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    internal static double Spearman(double[] a, double[] b) => Pearson(Ranks(a), Ranks(b));

    private static double[] Ranks(double[] values)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        for (var r = 0; r < order.Length; r++)
        {
            ranks[order[r]] = r;
        }
        return ranks;
    }

    private static double Pearson(double[] a, double[] b)
    {
        var (ma, mb) = (a.Average(), b.Average());
        var cov = a.Zip(b, (x, y) => (x - ma) * (y - mb)).Sum();
        return cov / Math.Sqrt(a.Sum(x => (x - ma) * (x - ma)) * b.Sum(y => (y - mb) * (y - mb)));
    }
}

using Flywheel.Core;

namespace Flywheel.Learning.Tests.Ability;

public sealed class AbilityPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static LoopConfig Tutor(AbilityConfig? ability = null, ExplorationAlgorithm exploration = ExplorationAlgorithm.None) => new()
    {
        Id = "tutor",
        Kind = LoopKind.Ability,
        Ability = ability ?? new AbilityConfig(),
        Signals = new Dictionary<string, SignalTypeConfig> { ["correct"] = new() { Kind = SignalKind.Explicit, Weight = 1, ClosesWindow = true } },
        Exploration = new ExplorationConfig { Algorithm = exploration, Epsilon = exploration == ExplorationAlgorithm.EpsilonGreedy ? 0.1 : null },
    };

    private static IReadOnlyList<ActionCandidate> Items(params string[] ids) => [.. ids.Select(id => new ActionCandidate(id, new Features()))];

    private static (AbilityEstimator Estimates, IAbilityPolicy Policy) Seeded(params (string Item, double Difficulty)[] items)
    {
        var learner = (AbilityLearner)AbilityKind.Instance.CreateLearner(new LearnerConfig(), new ExplorationConfig());
        foreach (var (item, difficulty) in items)
        {
            learner.Estimator.ItemStates[item] = new AbilityEstimator.ItemState { Deviation = difficulty, Answers = 10 };
        }
        return (learner.Estimator, (IAbilityPolicy)learner.Publish(1));
    }

    [Fact]
    public void Score_ServesTheItemWhosePredictedSuccessIsNearestTheTarget()
    {
        // A new learner (θ = 0): P = σ(−d). The item at d = −logit(0.7) is predicted at exactly 0.7.
        var (_, policy) = Seeded(("easy", -3), ("right", -Math.Log(0.7 / 0.3)), ("hard", 2));
        var costs = new float[3];
        var pmf = new double[3];
        var success = new double[3];

        policy.Score(Tutor(), "u", T0, Items("easy", "right", "hard"), costs, pmf, success);

        Assert.Equal(0.7, success[1], 9);
        Assert.Equal([0.0, 1.0, 0.0], pmf);
        Assert.Equal(Math.Abs(success[0] - 0.7), costs[0], 6);
    }

    [Fact]
    public void Score_OtherTarget_OtherItem()
    {
        var (_, policy) = Seeded(("easy", -3), ("right", -Math.Log(0.7 / 0.3)), ("hard", 0.2));
        var pmf = new double[3];

        policy.Score(Tutor(new AbilityConfig { TargetSuccess = 0.45 }), "u", T0, Items("easy", "right", "hard"), new float[3], pmf, []);

        Assert.Equal([0.0, 0.0, 1.0], pmf);
    }

    [Fact]
    public void Score_EpsilonGreedy_ExploresEveryItemWithTheLoggedProbability()
    {
        var (_, policy) = Seeded(("easy", -3), ("right", -Math.Log(0.7 / 0.3)), ("hard", 2));
        var pmf = new double[3];

        policy.Score(Tutor(exploration: ExplorationAlgorithm.EpsilonGreedy), "u", T0, Items("easy", "right", "hard"), new float[3], pmf, []);

        Assert.Equal(0.1 / 3, pmf[0], 12);
        Assert.Equal(1 - 0.2 / 3, pmf[1], 12);
        Assert.Equal(1, pmf.Sum(), 12);
    }

    [Fact]
    public void Score_WithReviews_PrefersADueReviewOverTheBestNewItem()
    {
        var settings = new AbilityConfig { Reviews = true };
        // After one right answer the learner's ability is 0.4: "right" is predicted at 0.7, "old" (made easy) far above it.
        var (estimates, policy) = Seeded(("right", 0.4 - Math.Log(0.7 / 0.3)));
        estimates.Learn("u", "old", null, true, T0, null, settings);
        estimates.ItemStates["old"].Deviation = -3;
        var later = T0.AddDays(60); // long past the first interval of a right answer
        var pmf = new double[2];

        policy.Score(Tutor(settings), "u", later, Items("right", "old"), new float[2], pmf, []);
        var without = new double[2];
        policy.Score(Tutor(settings with { Reviews = false }), "u", later, Items("right", "old"), new float[2], without, []);

        Assert.Equal([0.0, 1.0], pmf);
        Assert.Equal(1.0, without[0]);
        Assert.Single(estimates.Reviews("u", later, settings));
        Assert.Empty(estimates.Reviews("u", T0, settings));
    }

    [Fact]
    public void Snapshot_RoundTrip_KeepsEveryEstimate()
    {
        var kind = AbilityKind.Instance;
        var learner = (AbilityLearner)kind.CreateLearner(new LearnerConfig(), new ExplorationConfig());
        var irt = new AbilityConfig { Model = AbilityModel.Irt, GraceDays = 1 };
        var random = new Random(3);
        for (var n = 0; n < 500; n++)
        {
            var level = random.Next(0, 5);
            learner.Estimator.Learn($"u{n % 7}", $"i{n % 40}", new Features { ["item"] = { ["level"] = level, ["topic"] = $"t{n % 3}" } },
                random.NextDouble() < 0.6, T0.AddHours(n * 7), n % 2 == 0 ? "Europe/Paris" : null, irt);
        }

        var bytes = learner.Save();
        var copy = (AbilityLearner)kind.LoadLearner(bytes, new LearnerConfig(), new ExplorationConfig());
        var now = T0.AddDays(200);

        Assert.Equal(bytes, copy.Save());
        for (var u = 0; u < 7; u++)
        {
            Assert.Equal(learner.Estimator.Learner("l", $"u{u}", now, irt), copy.Estimator.Learner("l", $"u{u}", now, irt));
            Assert.Equal(learner.Estimator.Reviews($"u{u}", now, irt), copy.Estimator.Reviews($"u{u}", now, irt));
        }
        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(learner.Estimator.Item("l", $"i{i}", AbilityModel.Irt), copy.Estimator.Item("l", $"i{i}", AbilityModel.Irt));
        }
    }

    [Fact]
    public void Load_CorruptSnapshot_IsRefused()
    {
        var learner = (AbilityLearner)AbilityKind.Instance.CreateLearner(new LearnerConfig(), new ExplorationConfig());
        learner.Estimator.Learn("u", "i", null, true, T0, null, new AbilityConfig());
        var bytes = learner.Save();
        bytes[20] ^= 0xFF;

        Assert.Throws<ModelSnapshotException>(() => AbilityKind.Instance.LoadLearner(bytes, new LearnerConfig(), new ExplorationConfig()));
        Assert.Throws<ModelSnapshotException>(() => AbilityKind.Instance.LoadLearner("FWRANK01........"u8, new LearnerConfig(), new ExplorationConfig()));
    }
}

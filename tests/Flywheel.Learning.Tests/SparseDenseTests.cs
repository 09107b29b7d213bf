using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Learning.Tests;

/// <summary>
/// A regressor keeps only its touched slots until its table would pass a sixth of the dense arrays, then turns dense.
/// The two forms must be indistinguishable: the same stream learned sparse (turning dense on its own when it must) and
/// dense from the start gives bit-identical predictions, policies and snapshots.
/// </summary>
public class SparseDenseTests
{
    private static readonly string[] Countries = ["fr", "de", "jp", "br", "us", "in", "ng", "mx"];

    private static ChooseLearner Create(LoopConfig config, bool dense)
    {
        var learner = (ChooseLearner)LoopKinds.For(config).CreateLearner(config.Learner, config.Exploration, seed: 11);
        if (dense)
        {
            learner.Learner.Densify();
        }
        return learner;
    }

    private static LoopConfig Config(Reduction reduction, ExplorationConfig exploration, int bits = 18, double forgetting = 0) => new()
    {
        Id = "feed",
        Signals = new Dictionary<string, SignalTypeConfig> { ["click"] = new() },
        Exploration = exploration,
        Learner = new LearnerConfig { Bits = bits, Reduction = reduction, Forgetting = forgetting, Interactions = ["context*action", "context*context*action"] },
    };

    /// <summary>A seeded stream of decisions: many users (so many distinct slots), 5 actions, noisy rewards.</summary>
    private static IEnumerable<(DecisionRecord Decision, double Reward)> Stream(int count, int seed)
    {
        var random = new Random(seed);
        var actions = Enumerable.Range(0, 5).Select(a => new ActionCandidate($"a{a}", new Features
        {
            ["item"] = { ["topic"] = $"t{a % 3}", ["length_s"] = 5 + 11 * a },
        })).ToArray();
        for (var i = 0; i < count; i++)
        {
            var chosen = random.Next(actions.Length);
            var context = new Features
            {
                ["user"] = { ["id"] = $"u{random.Next(2_000)}", ["country"] = Countries[random.Next(Countries.Length)], ["tenure"] = random.Next(1000) / 10.0 },
                ["time"] = { ["hour"] = random.Next(24) },
            };
            yield return (new DecisionRecord
            {
                Loop = "feed",
                DecisionId = $"d{i}",
                At = DateTimeOffset.UnixEpoch,
                Context = context,
                Actions = actions,
                ChosenActionId = actions[chosen].Id,
                Explored = chosen != 0,
                Ranking = actions.Select((a, k) => new RankedAction(a.Id, k == chosen ? 0.6 : 0.1)).ToList(),
                ModelVersion = 1,
            }, random.NextDouble() < (chosen == i % 5 ? 0.7 : 0.2) ? 1.0 : -0.25);
        }
    }

    private static void AssertSameScores(ChooseLearner sparse, ChooseLearner dense, LoopConfig config, DecisionRecord probe, string at)
    {
        var kind = LoopKinds.For(config);
        var prepared = kind.Prepare(probe);
        var k = probe.Actions.Count;
        float[] sparseCosts = new float[k], denseCosts = new float[k];
        double[] sparsePmf = new double[k], densePmf = new double[k];
        sparse.Score(prepared, config.Exploration, sparseCosts, sparsePmf);
        dense.Score(prepared, config.Exploration, denseCosts, densePmf);
        Assert.True(sparseCosts.Select(BitConverter.SingleToInt32Bits).SequenceEqual(denseCosts.Select(BitConverter.SingleToInt32Bits)), $"learner costs differ {at}");
        Assert.True(sparsePmf.SequenceEqual(densePmf), $"learner distribution differs {at}");

        var sparsePolicy = sparse.Publish(1);
        var densePolicy = dense.Publish(1);
        sparsePolicy.Score(config.Exploration, probe.Context, probe.Actions, sparseCosts, sparsePmf);
        densePolicy.Score(config.Exploration, probe.Context, probe.Actions, denseCosts, densePmf);
        Assert.True(sparseCosts.Select(BitConverter.SingleToInt32Bits).SequenceEqual(denseCosts.Select(BitConverter.SingleToInt32Bits)), $"policy costs differ {at}");
        Assert.True(sparsePmf.SequenceEqual(densePmf), $"policy distribution differs {at}");
    }

    public static TheoryData<Reduction, ExplorationAlgorithm, double> Settings => new()
    {
        { Reduction.Dm, ExplorationAlgorithm.EpsilonGreedy, 0 },
        { Reduction.Mtr, ExplorationAlgorithm.EpsilonGreedy, 0 },
        { Reduction.Ips, ExplorationAlgorithm.Softmax, 0 },
        { Reduction.Dr, ExplorationAlgorithm.EpsilonGreedy, 0 },
        { Reduction.Dm, ExplorationAlgorithm.Bag, 0 },
        { Reduction.Mtr, ExplorationAlgorithm.SquareCb, 0.01 },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void Learn_SameStreamSparseAndDense_GivesBitIdenticalPredictionsPoliciesAndSnapshots(Reduction reduction, ExplorationAlgorithm algorithm, double forgetting)
    {
        var config = Config(reduction, new ExplorationConfig { Algorithm = algorithm, Bags = 3 }, forgetting: forgetting);
        var sparse = Create(config, dense: false);
        var dense = Create(config, dense: true);
        Assert.All(sparse.Learner.Regressors, r => Assert.False(r.IsDense));
        Assert.All(dense.Learner.Regressors, r => Assert.True(r.IsDense));
        var stream = Stream(300, seed: 5).ToList();
        for (var i = 0; i < stream.Count; i++)
        {
            var (decision, reward) = stream[i];
            sparse.Learn(decision, reward, config.Exploration);
            dense.Learn(decision, reward, config.Exploration);
            if (i % 25 == 0)
            {
                AssertSameScores(sparse, dense, config, stream[(i * 7 + 3) % stream.Count].Decision, $"after {i + 1} examples");
            }
            if (i == 150)
            {
                // The adaptive state restarts in place in both forms (a drift alarm or a refreshed candidate).
                sparse.Refresh(keepWeights: i % 2 == 0);
                dense.Refresh(keepWeights: i % 2 == 0);
            }
        }
        // 300 examples of ~60 features each stay well under the sparse limit of 2^18 / 16 slots.
        Assert.All(sparse.Learner.Regressors, r => Assert.False(r.IsDense));
        Assert.Equal(dense.Save(), sparse.Save());
    }

    [Theory]
    [InlineData(Reduction.Dm)]
    [InlineData(Reduction.Dr)]
    public void Learn_PastTheSparseLimit_TurnsDenseMidStreamAndStaysIdentical(Reduction reduction)
    {
        // 16 bits: the table turns dense once it would hold more than 2^16 / 16 = 4,096 slots.
        var config = Config(reduction, new ExplorationConfig(), bits: 16);
        var sparse = Create(config, dense: false);
        var dense = Create(config, dense: true);
        var turnedDenseAt = -1;
        var stream = Stream(2_000, seed: 8).ToList();
        for (var i = 0; i < stream.Count; i++)
        {
            var (decision, reward) = stream[i];
            sparse.Learn(decision, reward, config.Exploration);
            dense.Learn(decision, reward, config.Exploration);
            if (turnedDenseAt < 0 && sparse.Learner.Regressor.IsDense)
            {
                turnedDenseAt = i;
                AssertSameScores(sparse, dense, config, decision, "when the table turned dense");
            }
            if (i % 100 == 0)
            {
                Assert.Equal(dense.Save(), sparse.Save());
            }
        }
        Assert.InRange(turnedDenseAt, 1, stream.Count - 100);
        AssertSameScores(sparse, dense, config, stream[17].Decision, "at the end");
        Assert.Equal(dense.Save(), sparse.Save());
    }

    [Fact]
    public void Load_SnapshotOfFewSlots_StaysSparseAndRoundTripsExactly()
    {
        var config = Config(Reduction.Dm, new ExplorationConfig { Algorithm = ExplorationAlgorithm.Bag, Bags = 4 });
        var trained = Create(config, dense: true);
        foreach (var (decision, reward) in Stream(20, seed: 3))
        {
            trained.Learn(decision, reward, config.Exploration);
        }
        var bytes = trained.Save();

        var loaded = (ChooseLearner)LoopKinds.For(config).LoadLearner(bytes, config.Learner, config.Exploration);

        Assert.All(loaded.Learner.Regressors, r => Assert.False(r.IsDense));
        Assert.All(loaded.Learner.Regressors, r => Assert.InRange(r.SparseCount, 1, 20 * 64));
        Assert.False(((ChoosePolicy)loaded.Publish(1)).Model.IsDense);
        Assert.Equal(bytes, loaded.Save());
        AssertSameScores(loaded, trained, config, Stream(21, seed: 3).Last().Decision, "after loading");
    }

    [Fact]
    public void Load_SnapshotPastTheSparseLimit_LoadsDense()
    {
        var config = Config(Reduction.Dm, new ExplorationConfig(), bits: 16);
        var trained = Create(config, dense: true);
        foreach (var (decision, reward) in Stream(2_000, seed: 8))
        {
            trained.Learn(decision, reward, config.Exploration);
        }

        var loaded = (ChooseLearner)LoopKinds.For(config).LoadLearner(trained.Save(), config.Learner, config.Exploration);

        Assert.True(loaded.Learner.Regressor.IsDense);
        Assert.Equal(trained.Save(), loaded.Save());
    }

    [Fact]
    public void Regressor_New_IsSparseAndSmall_AndCopyWeightsIsTheDenseTable()
    {
        var regressor = new OnlineRegressor(bits: 18);
        Assert.False(regressor.IsDense);
        regressor.Update([5, 70_000, 262_143], [1f, 0.5f, 2f], label: 1f, importance: 1f);
        Assert.Equal(3, regressor.SparseCount);

        var copy = regressor.CopyWeights();

        Assert.Equal(1 << 18, copy.Length);
        Assert.Equal(3, copy.Count(w => w != 0));
        Assert.False(regressor.IsDense);
        Assert.Equal(copy[70_000] * 0.5f, regressor.Predict([70_000], [0.5f]));
        Assert.Equal(copy, regressor.Weights.ToArray());
        Assert.True(regressor.IsDense);
    }

    [Fact]
    public void ServingModel_Empty_IsSparseAndPredictsZero()
    {
        var model = ServingModel.Empty(bits: 18, version: 1, bags: 2);
        Assert.False(model.IsDense);
        Assert.Equal(0f, model.Predict(1, [3, 262_143], [1f, 2f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Predict(0, [1 << 18], [1f]));
    }
}

using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Learning.Tests;

public class ExplorationPropertyTests
{
    public static TheoryData<ExplorationAlgorithm, double> Algorithms => new()
    {
        { ExplorationAlgorithm.EpsilonGreedy, 0.05 },
        { ExplorationAlgorithm.EpsilonGreedy, 0.0 },
        { ExplorationAlgorithm.Softmax, 0.0 },
        { ExplorationAlgorithm.Softmax, 0.1 },
        { ExplorationAlgorithm.SquareCb, 0.0 },
        { ExplorationAlgorithm.SquareCb, 0.2 },
        { ExplorationAlgorithm.Bag, 0.0 },
        { ExplorationAlgorithm.Bag, 0.05 },
        { ExplorationAlgorithm.None, 0.0 },
    };

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Distribution_RandomCosts_SumsToOneAndKeepsTheFloor(ExplorationAlgorithm algorithm, double epsilon)
    {
        var random = new Random(674386);
        var config = new ExplorationConfig { Algorithm = algorithm, Epsilon = epsilon, Lambda = 10, Bags = 4 };
        foreach (var k in new[] { 1, 2, 3, 7, 26, 100 })
        {
            for (var trial = 0; trial < 300; trial++)
            {
                // Coarse values make ties common; large spreads push probabilities towards zero.
                var scale = trial % 3 == 0 ? 100.0 : 1.0;
                var bagCosts = Enumerable.Range(0, 4 * k).Select(_ => (float)(Math.Round(random.NextDouble() * 4) / 4 * scale)).ToArray();
                var costs = Enumerable.Range(0, k).Select(a => (bagCosts[a] + bagCosts[k + a] + bagCosts[2 * k + a] + bagCosts[3 * k + a]) / 4).ToArray();
                var pmf = new double[k];
                Exploration.Distribution(config, costs, trial * 17, pmf, bagCosts);
                Assert.True(Math.Abs(pmf.Sum() - 1) <= 1e-9, $"{algorithm}: sum {pmf.Sum()}");
                var floor = algorithm == ExplorationAlgorithm.None ? 0 : epsilon / k;
                Assert.All(pmf, p => Assert.True(p >= floor - 1e-12, $"{algorithm}: {p} below the floor {floor}"));
            }
        }
    }

    [Theory]
    [InlineData(ExplorationAlgorithm.EpsilonGreedy)]
    [InlineData(ExplorationAlgorithm.Softmax)]
    [InlineData(ExplorationAlgorithm.Bag)]
    [InlineData(ExplorationAlgorithm.None)]
    public void Distribution_TiedCosts_SplitEvenly(ExplorationAlgorithm algorithm)
    {
        var config = new ExplorationConfig { Algorithm = algorithm, Epsilon = 0.1, Bags = 3 };
        float[] costs = [0.2f, 0.5f, 0.2f, 0.9f];
        var pmf = new double[4];
        Exploration.Distribution(config, costs, 10, pmf, [.. costs, .. costs, .. costs]);
        Assert.Equal(pmf[0], pmf[2], 12);
        Assert.True(pmf[0] > pmf[1]);
    }

    [Fact]
    public void SquareCb_FirstExample_IsUniform()
    {
        var pmf = new double[4];
        Exploration.Distribution(new ExplorationConfig { Algorithm = ExplorationAlgorithm.SquareCb, Epsilon = 0 }, [0.1f, 0.9f, 0.5f, 0.3f], 0, pmf);
        Assert.All(pmf, p => Assert.Equal(0.25, p, 12));
    }

    [Fact]
    public void SquareCb_ReferenceValues_MatchAlgorithms()
    {
        // Worked example: ŝ = [0.2, 0.5, 0.9], t = 100 (γ = 100) → [0.9560, 0.0303, 0.0137].
        var pmf = new double[3];
        Exploration.Distribution(new ExplorationConfig { Algorithm = ExplorationAlgorithm.SquareCb, Epsilon = 0 }, [0.2f, 0.5f, 0.9f], 100, pmf);
        Assert.Equal(0.9560, pmf[0], 4);
        Assert.Equal(0.0303, pmf[1], 4);
        Assert.Equal(0.0137, pmf[2], 4);
    }

    [Fact]
    public void Softmax_ReferenceValues_MatchAlgorithms()
    {
        // Worked example: λ = 1, ŝ = [0.2, 0.5, 0.9] → [0.447, 0.331, 0.222].
        var pmf = new double[3];
        Exploration.Softmax(1, [0.2f, 0.5f, 0.9f], pmf);
        Assert.Equal(0.447, pmf[0], 3);
        Assert.Equal(0.331, pmf[1], 3);
        Assert.Equal(0.222, pmf[2], 3);
    }

    [Fact]
    public void EnforceMinimum_ReferenceValues_MatchAlgorithms()
    {
        // Worked example: [1, 0, 0] with ε = 0.3 → [0.8, 0.1, 0.1].
        double[] pmf = [1, 0, 0];
        Exploration.EnforceMinimum(0.3, pmf);
        Assert.Equal(0.8, pmf[0], 12);
        Assert.Equal(0.1, pmf[1], 12);
        Assert.Equal(0.1, pmf[2], 12);
    }

    [Theory]
    [InlineData(ExplorationAlgorithm.EpsilonGreedy, Reduction.Dm)]
    [InlineData(ExplorationAlgorithm.Bag, Reduction.Mtr)]
    [InlineData(ExplorationAlgorithm.SquareCb, Reduction.Dr)]
    [InlineData(ExplorationAlgorithm.Softmax, Reduction.Ips)]
    public void Learner_SameSeed_SameDecisionsAndBitExactSnapshots(ExplorationAlgorithm algorithm, Reduction reduction)
    {
        var exploration = new ExplorationConfig { Algorithm = algorithm, Lambda = 10, Bags = 3 };
        var config = new LearnerConfig { Bits = 16, Reduction = reduction };
        var (choicesA, learnerA) = Run(config, exploration);
        var (choicesB, learnerB) = Run(config, exploration);
        Assert.Equal(choicesA, choicesB);
        var bytes = ModelSnapshot.Save(learnerA);
        Assert.Equal(bytes, ModelSnapshot.Save(learnerB));
        var loaded = ModelSnapshot.Load(bytes, config, exploration);
        Assert.Equal(bytes, ModelSnapshot.Save(loaded));
        for (var i = 0; i < bytes.Length; i += Math.Max(1, bytes.Length / 50))
        {
            var corrupt = (byte[])bytes.Clone();
            corrupt[i] ^= 0x01;
            Assert.Throws<ModelSnapshotException>(() => ModelSnapshot.Load(corrupt, config, exploration));
        }
    }

    private static (List<int> Choices, BanditLearner Learner) Run(LearnerConfig config, ExplorationConfig exploration)
    {
        var learner = BanditLearner.For(config, exploration, seed: 9);
        var featurizer = new Featurizer(config);
        var random = new Random(5);
        var choices = new List<int>();
        var vector = new FeatureVector();
        var costs = new float[4];
        var bagCosts = new float[4 * learner.Bags];
        var pmf = new double[4];
        var actions = Enumerable.Range(0, 4).Select(a => HashedFeatureSet.FromAction(new ActionCandidate($"a{a}"))).ToArray();
        for (var i = 0; i < 300; i++)
        {
            var context = new Features { ["u"] = { ["x"] = random.Next(5), ["c"] = $"c{random.Next(3)}" } };
            featurizer.SetContext(HashedFeatureSet.FromContext(context));
            vector.Clear();
            foreach (var action in actions)
            {
                featurizer.AddAction(action, vector);
            }
            learner.Predict(vector, costs, bagCosts);
            Exploration.Distribution(exploration, costs, learner.Examples, pmf, bagCosts);
            var chosen = Exploration.Sample(pmf, Exploration.UniformFor(3, i));
            choices.Add(chosen);
            learner.Learn(vector, chosen, chosen == i % 4 ? 0f : 1f, pmf[chosen]);
        }
        return (choices, learner);
    }
}

using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Learning.Tests;

public class ExplorationTests
{
    [Theory]
    [InlineData(new float[] { 0.2f, 0.5f, 0.9f }, 0.05, new[] { 0.05 / 3 + 0.95, 0.05 / 3, 0.05 / 3 })]
    [InlineData(new float[] { 0.2f, 0.2f, 0.9f }, 0.1, new[] { 0.1 / 3 + 0.45, 0.1 / 3 + 0.45, 0.1 / 3 })]
    [InlineData(new float[] { 0f, 0f, 0f, 0f }, 0.05, new[] { 0.25, 0.25, 0.25, 0.25 })]
    [InlineData(new float[] { 1f }, 0.3, new[] { 1.0 })]
    [InlineData(new float[] { -1f, 2f }, 0.0, new[] { 1.0, 0.0 })]
    public void EpsilonGreedy_Costs_ExactProbabilitiesWithTiesSharingGreedyMass(float[] costs, double epsilon, double[] expected)
    {
        var pmf = new double[costs.Length];
        Exploration.EpsilonGreedy(epsilon, costs, pmf);
        for (var i = 0; i < costs.Length; i++)
        {
            Assert.Equal(expected[i], pmf[i], 12);
        }
    }

    [Fact]
    public void Distribution_RandomCosts_SumsToOneAndRespectsFloor()
    {
        var random = new Random(674386);
        foreach (var k in new[] { 1, 2, 3, 10, 57 })
        {
            for (var trial = 0; trial < 200; trial++)
            {
                var costs = Enumerable.Range(0, k).Select(_ => (float)Math.Round(random.NextDouble(), 1)).ToArray();
                var pmf = new double[k];
                Exploration.Distribution(new ExplorationConfig { Epsilon = 0.2 }, costs, pmf);
                Assert.Equal(1.0, pmf.Sum(), 9);
                Assert.All(pmf, p => Assert.True(p >= 0.2 / k - 1e-15));
            }
        }
    }

    [Fact]
    public void Distribution_None_PutsAllMassOnTheBest()
    {
        var pmf = new double[3];
        Exploration.Distribution(new ExplorationConfig { Algorithm = ExplorationAlgorithm.None }, [0.5f, 0.1f, 0.3f], pmf);
        Assert.Equal([0.0, 1.0, 0.0], pmf);
    }

    [Fact]
    public void Sample_UniformDraws_MatchTheDistribution()
    {
        double[] pmf = [0.1, 0.6, 0.3];
        var counts = new int[3];
        const int n = 100_000;
        for (var i = 0; i < n; i++)
        {
            counts[Exploration.Sample(pmf, Exploration.UniformFor(7, i))]++;
        }
        for (var a = 0; a < 3; a++)
        {
            Assert.Equal(pmf[a], counts[a] / (double)n, 2);
        }
    }

    [Fact]
    public void Sample_ZeroProbabilityActions_AreNeverChosen()
    {
        double[] pmf = [0, 1, 0];
        Assert.Equal(1, Exploration.Sample(pmf, 0));
        Assert.Equal(1, Exploration.Sample(pmf, 0.999999));
    }

    [Fact]
    public void UniformFor_SameDecision_SameDraw()
    {
        var a = Exploration.UniformFor("home-feed", "d-1");
        Assert.Equal(a, Exploration.UniformFor("home-feed", "d-1"));
        Assert.NotEqual(a, Exploration.UniformFor("home-feed", "d-2"));
        Assert.NotEqual(a, Exploration.UniformFor("search", "d-1"));
        Assert.NotEqual(a, Exploration.UniformFor("home-feed", "d-1", seed: 1));
        Assert.InRange(a, 0, 1);
    }
}

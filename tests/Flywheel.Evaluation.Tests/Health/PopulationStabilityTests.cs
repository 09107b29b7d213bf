using Flywheel.Evaluation.Health;

namespace Flywheel.Evaluation.Tests.Health;

public class PopulationStabilityTests
{
    private static readonly double[] OneToTen = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

    [Fact]
    public void QuantileEdges_TenValuesFiveBins_AreEveryOtherValue()
    {
        // Edge k = x₍⌊k·10/5⌋₎ = x₍2k₎: 3, 5, 7, 9, so bins (−∞,3) [3,5) [5,7) [7,9) [9,∞) hold two values each.
        Assert.Equal([3.0, 5, 7, 9], PopulationStability.QuantileEdges(OneToTen, bins: 5));
    }

    [Fact]
    public void QuantileEdges_Ties_MergeBins()
    {
        // Sorted 0 0 0 0 0 0 1 2 3 4: candidate edges x₍₂₎ x₍₄₎ x₍₆₎ x₍₈₎ = 0 0 1 3. An edge at the minimum would
        // leave the first bin empty, a repeated one an empty bin: bins (−∞,1) [1,3) [3,∞) remain.
        Assert.Equal([1.0, 3], PopulationStability.QuantileEdges([0, 0, 0, 0, 0, 0, 1, 2, 3, 4], bins: 5));
        Assert.Empty(PopulationStability.QuantileEdges([7, 7, 7, 7], bins: 10));
    }

    [Fact]
    public void Compute_HandExample_IsOneFifthOfLnThree()
    {
        // Expected 1..10 in five bins: E = 0.2 each. Actual 1 2 2 | 3 4 | 6 | 8 | 9 10 10 → A = .3 .2 .1 .1 .3.
        // PSI = (.3−.2)ln(.3/.2) + 0 + (.1−.2)ln(.1/.2) + (.1−.2)ln(.1/.2) + (.3−.2)ln(.3/.2)
        //     = 0.2·ln 1.5 + 0.2·ln 2 = 0.2·ln 3 = 0.2197224577.
        double[] actual = [1, 2, 2, 3, 4, 6, 8, 9, 10, 10];
        var psi = PopulationStability.Compute(OneToTen, actual, bins: 5);
        Assert.Equal(0.21972245773362194, psi, 1e-14);
        Assert.Equal(PopulationShift.Some, PopulationStability.Read(psi));
    }

    [Fact]
    public void Compute_EmptyBins_UseTheEpsilonFloor()
    {
        // Actual all below 3: A = 1 0 0 0 0, floored to 1 ε ε ε ε with ε = 1e-4.
        // PSI = (1 − .2)·ln(1/.2) + 4·(ε − .2)·ln(ε/.2) = 0.8·ln 5 + 4·0.1999·ln 2000
        //     = 1.2875503 + 6.0778816 = 7.3652319.
        var psi = PopulationStability.Compute(OneToTen, [1, 1, 2, 2, 1], bins: 5);
        Assert.Equal(7.3652319365971294, psi, 1e-12);
        Assert.Equal(PopulationShift.Significant, PopulationStability.Read(psi));
        // A larger ε shrinks the penalty of the empty bins: the floor is what makes the sum finite.
        Assert.True(PopulationStability.Compute(OneToTen, [1, 1, 2, 2, 1], bins: 5, epsilon: 1e-2) < psi);
    }

    [Fact]
    public void Compute_IdenticalSamples_IsZero()
    {
        var random = new Random(1401);
        var sample = new double[1000];
        for (var i = 0; i < sample.Length; i++)
        {
            sample[i] = random.NextDouble() * random.NextDouble();
        }
        Assert.Equal(0, PopulationStability.Compute(sample, sample));
    }

    [Fact]
    public void Compute_SameDistribution_IsNearZero_ShiftedIsSignificant()
    {
        // Two samples of 10,000 from one distribution: PSI ≈ (bins − 1)(1/n + 1/m) = 9·2e-4 ≈ 0.002 from noise alone.
        var random = new Random(1402);
        var expected = new double[10_000];
        var same = new double[10_000];
        var shifted = new double[10_000];
        for (var i = 0; i < expected.Length; i++)
        {
            expected[i] = random.NextDouble();
            same[i] = random.NextDouble();
            shifted[i] = 0.3 + random.NextDouble();
        }
        var noise = PopulationStability.Compute(expected, same);
        Assert.InRange(noise, 0, 0.01);
        Assert.Equal(PopulationShift.None, PopulationStability.Read(noise));
        // Moved by 0.3: the bottom three bins empty (each adds 0.1·ln(0.1/ε) ≈ 0.69) and 30% lands above the top edge.
        Assert.Equal(PopulationShift.Significant, PopulationStability.Read(PopulationStability.Compute(expected, shifted)));
    }

    [Fact]
    public void CountInto_InBatches_GivesTheSamePsiAsOneCall()
    {
        var edges = PopulationStability.QuantileEdges(OneToTen, bins: 5);
        Span<long> expectedCounts = stackalloc long[edges.Length + 1];
        Span<long> actualCounts = stackalloc long[edges.Length + 1];
        PopulationStability.CountInto(edges, OneToTen, expectedCounts);
        PopulationStability.CountInto(edges, [1, 2, 2, 3, 4], actualCounts);
        PopulationStability.CountInto(edges, [6, 8, 9, 10, 10], actualCounts);
        Assert.Equal([3L, 2, 1, 1, 3], actualCounts.ToArray());
        Assert.Equal(0.21972245773362194, PopulationStability.FromCounts(expectedCounts, actualCounts), 1e-14);
    }

    [Fact]
    public void FromCategories_TwoCategories_IsATenthOfLnOnePointFive()
    {
        // E = .5 .5, A = .6 .4: PSI = .1·ln(.6/.5) + (−.1)·ln(.4/.5) = .1·ln(1.2/.8) = .1·ln 1.5 = 0.0405465.
        var expected = new Dictionary<string, long> { ["mobile"] = 50, ["desktop"] = 50 };
        var actual = new Dictionary<string, long> { ["mobile"] = 60, ["desktop"] = 40 };
        var psi = PopulationStability.FromCategories(expected, actual);
        Assert.Equal(0.040546510810816438, psi, 1e-14);
        Assert.Equal(PopulationShift.None, PopulationStability.Read(psi));
    }

    [Fact]
    public void FromCategories_CategoriesOnOneSideOnly_CountAsEpsilon()
    {
        // E: a .5, b .3, c .2, d 0→ε; A: a .4, b .3, c 0→ε, d .3 (ε = 1e-4).
        // PSI = (.4−.5)ln .8 + 0 + (ε−.2)ln(ε/.2) + (.3−ε)ln(.3/ε)
        //     = 0.0223144 + 0.1999·ln 2000 + 0.2999·ln 3000 = 0.0223144 + 1.5194204 + 2.4011096 = 3.9428444.
        var expected = new Dictionary<string, long> { ["a"] = 50, ["b"] = 30, ["c"] = 20 };
        var actual = new Dictionary<string, long> { ["a"] = 40, ["b"] = 30, ["d"] = 30 };
        Assert.Equal(3.9428443903321922, PopulationStability.FromCategories(expected, actual), 1e-12);
        // Symmetric in its two arguments, like the sum of both KL divergences.
        Assert.Equal(PopulationStability.FromCategories(expected, actual), PopulationStability.FromCategories(actual, expected), 1e-14);
    }

    [Theory]
    [InlineData(0, PopulationShift.None)]
    [InlineData(0.0999, PopulationShift.None)]
    [InlineData(0.1, PopulationShift.Some)]
    [InlineData(0.25, PopulationShift.Some)]
    [InlineData(0.2501, PopulationShift.Significant)]
    public void Read_ConventionalThresholds(double psi, PopulationShift expected)
        => Assert.Equal(expected, PopulationStability.Read(psi));

    [Fact]
    public void Compute_InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => PopulationStability.Compute([], OneToTen));
        Assert.Throws<ArgumentException>(() => PopulationStability.Compute(OneToTen, []));
        Assert.Throws<ArgumentException>(() => PopulationStability.Compute([1, double.NaN, 3], OneToTen));
        Assert.Throws<ArgumentException>(() => PopulationStability.Compute(OneToTen, [1, double.NaN]));
        Assert.Throws<ArgumentOutOfRangeException>(() => PopulationStability.Compute(OneToTen, OneToTen, bins: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PopulationStability.Compute(OneToTen, OneToTen, epsilon: 0));
        Assert.Throws<ArgumentException>(() => PopulationStability.FromCounts([1, 2], [0, 0]));
    }
}

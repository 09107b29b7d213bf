using Flywheel.Core;
namespace Flywheel.Evaluation.Tests;

public class EstimatorTests
{
    private static OffPolicyEstimates Accumulate(IEnumerable<(double PLog, double R, double PPred)> rows)
    {
        var accumulator = new OffPolicyAccumulator();
        foreach (var (pLog, r, pPred) in rows)
        {
            accumulator.Add(pPred / pLog, r, 0, 0);
        }
        return accumulator.GetEstimates();
    }

    // docs/estimators.md [derived]: rows (p_log, r, p_pred).
    private static readonly (double, double, double)[] HandRows = [(0.5, 1, 1), (0.5, 0, 1), (0.25, 1, 0), (0.25, 0, 1)];

    [Fact]
    public void HandDerivedExample_Accumulator()
    {
        var e = Accumulate(HandRows);
        Assert.Equal(4, e.Count);
        Assert.Equal(0.5, e.Ips.Value, 15);
        // The textbook Gaussian interval: s² = 1, so V ± 1.96·1/√4 = [−0.48, 1.48]. Flywheel's interval contains it,
        // clipped to the reward range [0, 1].
        var gaussian = Estimate.Gaussian(0.5, 3, 4);
        Assert.Equal(0.5 - Estimate.Z95 / 2, gaussian.Lower, 14);
        Assert.Equal(0.5 + Estimate.Z95 / 2, gaussian.Upper, 14);
        Assert.Equal(-0.4800, gaussian.Lower, 4);
        Assert.Equal(1.4800, gaussian.Upper, 4);
        Assert.Equal((0.0, 1.0), (e.Ips.Lower, e.Ips.Upper));
        Assert.Equal(0.25, e.Snips.Value, 15);
        Assert.Equal(64.0 / 24, e.EffectiveSampleSize, 14);
        Assert.Equal(2.667, e.EffectiveSampleSize, 3);
    }

    [Fact]
    public void HandDerivedExample_Spans_AgreeWithAccumulator()
    {
        double[] w = [2, 2, 0, 4];
        double[] r = [1, 0, 1, 0];
        double[] zeros = new double[4];
        var spans = OffPolicyMath.Evaluate(w, r, zeros, zeros);
        var fast = OffPolicyMath.IpsSnips(w, r);
        var probabilities = OffPolicyMath.IpsSnips([0.5, 0.5, 0.25, 0.25], [1, 1, 0, 1], r);
        var streamed = Accumulate(HandRows);
        foreach (var e in new[] { spans.Ips, fast.Ips, probabilities.Ips })
        {
            Assert.Equal(0.5, e.Value, 15);
            Assert.Equal(streamed.Ips.Lower, e.Lower, 14);
            Assert.Equal(streamed.Ips.Upper, e.Upper, 14);
        }
        foreach (var e in new[] { spans.Snips, fast.Snips, probabilities.Snips })
        {
            Assert.Equal(0.25, e.Value, 15);
            Assert.Equal(streamed.Snips.Lower, e.Lower, 14);
            Assert.Equal(streamed.Snips.Upper, e.Upper, 14);
        }
        Assert.Equal(64.0 / 24, fast.EffectiveSampleSize, 14);
        Assert.Equal(64.0 / 24, spans.EffectiveSampleSize, 14);
    }

    [Fact]
    public void SnipsInterval_IsTheSampleVarianceOfItsTerms()
    {
        // t_i = w_i·(r_i − V)/mean(w) with V = 0.25, mean(w) = 2: t = [0.75, −0.25, 0, −0.5].
        double[] t = [0.75, -0.25, 0, -0.5];
        var mean = t.Average();
        var variance = t.Sum(x => (x - mean) * (x - mean)) / 3;
        var half = Estimate.Z95 * Math.Sqrt(variance / 4);
        var e = Accumulate(HandRows).Snips;
        // Flywheel's interval contains the Gaussian one, clipped to the reward range [0, 1].
        Assert.True(e.Lower <= Math.Max(0, 0.25 - half) && e.Upper >= 0.25 + half, $"[{e.Lower:R}, {e.Upper:R}]");
    }

    [Fact]
    public void VwSingleExample_Ips2_Snips1_NoBounds()
    {
        // VowpalWabbit/estimators tests: p_log 0.3, r 1, p_pred 0.6.
        var e = Accumulate([(0.3, 1, 0.6)]);
        Assert.Equal(2.0, e.Ips.Value, 15);
        Assert.Equal(1.0, e.Snips.Value, 15);
        Assert.False(e.Ips.IsBounded);
        Assert.Equal(double.NegativeInfinity, e.Ips.Lower);
        Assert.Equal(double.PositiveInfinity, e.Ips.Upper);
        Assert.False(e.Snips.IsBounded);
        Assert.False(e.Dm.IsBounded);
        Assert.False(e.Dr.IsBounded);
        var fast = OffPolicyMath.IpsSnips([0.3], [0.6], [1.0]);
        Assert.Equal(2.0, fast.Ips.Value, 15);
        Assert.Equal(1.0, fast.Snips.Value, 15);
        Assert.False(fast.Ips.IsBounded);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(10.0)]
    [InlineData(-1.0)]
    public void ConstantReward_EstimatesAreTheConstant_IntervalsContainIt(double c)
    {
        // VW's tests: ten rows of p_log 1, p_pred 1; and a mixed-weight variant.
        foreach (var rows in new[]
        {
            Enumerable.Repeat((1.0, c, 1.0), 10).ToArray(),
            Enumerable.Range(0, 101).Select(i => (0.2 + 0.007 * i, c, i % 3 == 0 ? 0.9 : 0.1)).ToArray(),
        })
        {
            // SNIPS is a weighted mean of the rewards, so it is c whatever the weights; IPS only when they average 1.
            var e = Accumulate(rows);
            Assert.Equal(c, e.Snips.Value, 13);
            Assert.True(e.Snips.Lower <= c + 1e-13 && e.Snips.Upper >= c - 1e-13, $"SNIPS [{e.Snips.Lower:R}, {e.Snips.Upper:R}]");
            Assert.Equal(c is >= 0 and <= 1, e.IpsClopperPearson.HasValue);
        }
        var equal = Accumulate(Enumerable.Repeat((1.0, c, 1.0), 10));
        Assert.True(equal.Ips.Contains(c));
        Assert.True(equal.Snips.Contains(c));
        if (c is >= 0 and <= 1)
        {
            Assert.True(equal.IpsClopperPearson!.Value.Contains(c));
        }
        Assert.Equal(c, equal.Ips.Value, 15);
        Assert.Equal(10, equal.EffectiveSampleSize, 13);
    }

    [Fact]
    public void ClopperPearson_AllOnes_UpperIsOne_LowerIsClosedForm()
    {
        // s = m = 10: upper 1, lower = BetaInv(0.025; 10, 1) = 0.025^(1/10).
        var cp = Accumulate(Enumerable.Repeat((1.0, 1.0, 1.0), 10)).IpsClopperPearson!.Value;
        Assert.Equal(1, cp.Upper);
        Assert.Equal(Math.Pow(0.025, 0.1), cp.Lower, 14);
        var zeros = Accumulate(Enumerable.Repeat((1.0, 0.0, 1.0), 10)).IpsClopperPearson!.Value;
        Assert.Equal(0, zeros.Lower);
        Assert.Equal(1 - Math.Pow(0.025, 0.1), zeros.Upper, 14);
    }

    [Fact]
    public void ClopperPearson_TargetNeverTakesLoggedActions_IsZeroToOne()
    {
        var cp = Accumulate([(0.5, 1, 0), (0.5, 0, 0)]).IpsClopperPearson!.Value;
        Assert.Equal((0.0, 0.0, 1.0), (cp.Value, cp.Lower, cp.Upper));
    }

    [Fact]
    public void MoreData_TighterIntervals()
    {
        static IEnumerable<(double, double, double)> Rows(int n)
            => Enumerable.Range(0, n).Select(i => (0.5, i % 2 == 0 ? 1.0 : 0.0, i % 2 == 0 ? 0.2 : 0.8));
        var small = Accumulate(Rows(100));
        var large = Accumulate(Rows(10_000));
        foreach (var (s, l) in new[] { (small.Ips, large.Ips), (small.Snips, large.Snips), (small.IpsClopperPearson!.Value, large.IpsClopperPearson!.Value) })
        {
            Assert.True(s.Lower <= l.Lower && s.Upper >= l.Upper);
        }
    }

    [Fact]
    public void NoRows_Throws_OneRow_NullBounds()
    {
        var accumulator = new OffPolicyAccumulator();
        Assert.Throws<InvalidOperationException>(() => accumulator.GetEstimates());
        accumulator.Add(1, 0.5, 0.4, 0.3);
        var e = accumulator.GetEstimates();
        Assert.Equal(1, e.Count);
        foreach (var estimate in new[] { e.Ips, e.Snips, e.Dm, e.Dr })
        {
            Assert.Equal(double.NegativeInfinity, estimate.Lower);
            Assert.Equal(double.PositiveInfinity, estimate.Upper);
        }
        Assert.Equal(0.4, e.Dm.Value);
        Assert.Equal(0.4 + 1 * (0.5 - 0.3), e.Dr.Value, 15);
    }

    [Fact]
    public void AllWeightsZero_SnipsIsNaN_EssIsZero()
    {
        var e = Accumulate([(0.5, 1, 0), (0.5, 0, 0), (0.2, 1, 0)]);
        Assert.True(double.IsNaN(e.Snips.Value));
        Assert.False(e.Snips.IsBounded);
        Assert.Equal(0, e.EffectiveSampleSize);
        Assert.Equal(0, e.Ips.Value);
    }

    [Fact]
    public void Add_BadRow_Throws()
    {
        var accumulator = new OffPolicyAccumulator();
        Assert.Throws<ArgumentOutOfRangeException>(() => accumulator.Add(double.PositiveInfinity, 0, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => accumulator.Add(1, double.NaN, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => accumulator.Add(1, 0, double.NaN, 0));
        Assert.Equal(0, accumulator.Count);
    }

    private static (double[] W, double[] R, double[] Qp, double[] Qa) RandomRows(int n, int seed)
    {
        var random = new Random(seed);
        var w = new double[n];
        var r = new double[n];
        var qp = new double[n];
        var qa = new double[n];
        for (var i = 0; i < n; i++)
        {
            w[i] = random.NextDouble() < 0.3 ? 0 : random.NextDouble() / (0.02 + random.NextDouble());
            r[i] = 1000 + random.NextDouble();  // a large offset: naive Σt² − (Σt)²/n would lose digits
            qp[i] = 1000 + random.NextDouble();
            qa[i] = 1000 + random.NextDouble();
        }
        return (w, r, qp, qa);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(1000)]
    [InlineData(4099)]
    public void Streaming_Spans_FastPath_Merge_Agree(int n)
    {
        var (w, r, qp, qa) = RandomRows(n, n);
        var whole = new OffPolicyAccumulator();
        var left = new OffPolicyAccumulator();
        var right = new OffPolicyAccumulator();
        for (var i = 0; i < n; i++)
        {
            whole.Add(w[i], r[i], qp[i], qa[i]);
            if (i < n / 3)
            {
                left.Add(w[i], r[i], qp[i], qa[i]);
            }
            else
            {
                right.Add(w[i], r[i], qp[i], qa[i]);
            }
        }
        left.Merge(right);
        var streamed = whole.GetEstimates();
        var merged = left.GetEstimates();
        var spans = OffPolicyMath.Evaluate(w, r, qp, qa);
        var fast = OffPolicyMath.IpsSnips(w, r);
        var fromProbabilities = OffPolicyMath.IpsSnips(w.Select(_ => 1.0).ToArray(), w, r);
        foreach (var other in new[] { merged, spans })
        {
            Assert.Equal(streamed.Count, other.Count);
            AssertClose(streamed.EffectiveSampleSize, other.EffectiveSampleSize);
            foreach (var e in OffPolicyEstimatorNames.All)
            {
                AssertClose(streamed.Get(e), other.Get(e));
            }
        }
        foreach (var f in new[] { fast, fromProbabilities })
        {
            AssertClose(streamed.Ips, f.Ips);
            AssertClose(streamed.Snips, f.Snips);
            AssertClose(streamed.EffectiveSampleSize, f.EffectiveSampleSize);
        }
    }

    private static void AssertClose(Estimate? expected, Estimate? actual)
    {
        Assert.Equal(expected.HasValue, actual.HasValue);
        if (expected is { } e && actual is { } a)
        {
            AssertClose(e.Value, a.Value);
            AssertClose(e.Lower, a.Lower);
            AssertClose(e.Upper, a.Upper);
        }
    }

    private static void AssertClose(double expected, double actual)
    {
        if (double.IsInfinity(expected) || double.IsNaN(expected))
        {
            Assert.Equal(expected, actual);
            return;
        }
        Assert.True(SharedData.RelativeError(actual, expected) < 1e-12, $"{actual:R} vs {expected:R}");
    }

    [Fact]
    public void FastPath_LengthMismatch_Throws()
    {
        Assert.Throws<ArgumentException>(() => OffPolicyMath.IpsSnips([1.0, 2.0], [1.0]));
        Assert.Throws<ArgumentException>(() => OffPolicyMath.IpsSnips([0.5], [1.0], [1.0, 2.0]));
        Assert.Throws<ArgumentException>(() => OffPolicyMath.IpsSnips(ReadOnlySpan<double>.Empty, ReadOnlySpan<double>.Empty));
    }

    [Fact]
    public void EstimatorNames_RoundTrip()
    {
        Assert.Equal(["ips", "ips-cp", "snips", "dm", "dr"], OffPolicyEstimatorNames.All.Select(OffPolicyEstimatorNames.Name));
        foreach (var e in OffPolicyEstimatorNames.All)
        {
            Assert.True(OffPolicyEstimatorNames.TryParse(OffPolicyEstimatorNames.Name(e), out var parsed));
            Assert.Equal(e, parsed);
        }
        Assert.False(OffPolicyEstimatorNames.TryParse("IPS", out _));
    }
}

using Flywheel.Evaluation.Health;

namespace Flywheel.Evaluation.Tests.Health;

public class WelchIntervalTests
{
    [Fact]
    public void Compute_TextbookExample_MatchesHandFigures()
    {
        // Treatment: n = 10, mean 20, s² = 16; control: n = 12, mean 17, s² = 9.
        // s_T²/n_T = 1.6, s_C²/n_C = 0.75, SE² = 2.35, SE = 1.532971.
        // ν = 2.35² / (1.6²/9 + 0.75²/11) = 5.5225 / (0.284444 + 0.051136) = 16.456543.
        // A t table gives t_.975 = 2.120 at 16 df and 2.110 at 17, so about 2.1154 at 16.46; mpmath: 2.1151356.
        // Interval: 3 ± 2.1151356·1.532971 = 3 ± 3.242441 → (−0.242441, 6.242441): not significant.
        var w = WelchInterval.Compute(10, 20, 16, 12, 17, 9);
        Assert.Equal(3, w.Difference, 1e-15);
        Assert.Equal(1.5329709716755892, w.StandardError, 1e-14);
        Assert.Equal(16.456543005493265, w.DegreesOfFreedom, 1e-10);
        Assert.Equal(-0.24244145822293446, w.Lower, 1e-10);
        Assert.Equal(6.2424414582229345, w.Upper, 1e-10);
        Assert.False(w.IsSignificant);
        Assert.True(w.Contains(0));
        Assert.Equal(0.95, w.Confidence);
    }

    [Fact]
    public void FromSums_SameData_EqualsCompute()
    {
        // Treatment 1, 2, 3, 4, 5 (mean 3, s² = 2.5); control 0, 0, 1, 1 (mean 0.5, s² = 1/3).
        var fromSums = WelchInterval.FromSums(5, 15, 55, 4, 2, 2);
        var direct = WelchInterval.Compute(5, 3, 2.5, 4, 0.5, 1.0 / 3);
        Assert.Equal(direct.Difference, fromSums.Difference, 1e-14);
        Assert.Equal(direct.StandardError, fromSums.StandardError, 1e-14);
        Assert.Equal(direct.DegreesOfFreedom, fromSums.DegreesOfFreedom, 1e-10);
        Assert.Equal(direct.Lower, fromSums.Lower, 1e-10);
        Assert.Equal(direct.Upper, fromSums.Upper, 1e-10);
        // ν = (0.5 + 1/12)² / (0.5²/4 + (1/12)²/3) = 0.340278 / 0.064815 = 5.25.
        Assert.Equal(5.25, direct.DegreesOfFreedom, 1e-12);
    }

    [Fact]
    public void Compute_DegreesOfFreedom_LieBetweenTheWelchBounds()
    {
        // min(n_T, n_C) − 1 ≤ ν ≤ n_T + n_C − 2: the extremes are one arm's variance dominating, and equal SE shares.
        var dominated = WelchInterval.Compute(10, 0, 1e6, 40, 0, 1e-6);
        Assert.Equal(9, dominated.DegreesOfFreedom, 1e-6);
        var balanced = WelchInterval.Compute(20, 0, 4, 20, 0, 4);
        Assert.Equal(38, balanced.DegreesOfFreedom, 1e-12);
    }

    [Fact]
    public void Compute_ZeroVariances_GiveAPointInterval()
    {
        var w = WelchInterval.Compute(3, 0.7, 0, 4, 0.5, 0);
        Assert.Equal(0.2, w.Lower, 1e-15);
        Assert.Equal(0.2, w.Upper, 1e-15);
        Assert.True(w.IsSignificant);
    }

    // Student-t two-sided critical values from mpmath (root of the regularized incomplete beta, 50 digits).
    [Theory]
    [InlineData(0.95, 1, 12.706204736174693314)]
    [InlineData(0.95, 2, 4.3026527297494617894)]
    [InlineData(0.95, 10, 2.2281388519862742245)]
    [InlineData(0.95, 30, 2.0422724563012378878)]
    [InlineData(0.95, 1000, 1.9623390808264081039)]
    [InlineData(0.95, 1e6, 1.9599663568141066553)]
    [InlineData(0.99, 5, 4.0321429835552271793)]
    // Either side of 10⁵, where the Cornish–Fisher expansion takes over, and far beyond.
    [InlineData(0.95, 99_999, 1.959987707771844399143)]
    [InlineData(0.95, 100_001, 1.959987707297378862888)]
    [InlineData(0.95, 1e9, 1.959963986912325088725)]
    [InlineData(0.95, 1e12, 1.959963984542426126835)]
    [InlineData(0.999, 1e7, 3.290527704465222199972)]
    public void StudentQuantile_KnownValues_MatchTo1e11(double confidence, double df, double expected)
    {
        var t = WelchInterval.StudentQuantile(confidence, df);
        Assert.True(SharedData.RelativeError(t, expected) < 1e-11, $"t({confidence}, {df}) = {t:R}, expected {expected:R}");
    }

    [Fact]
    public void StudentQuantile_InfiniteDegrees_IsNormal()
        => Assert.Equal(1.959963984540054, WelchInterval.StudentQuantile(0.95, double.PositiveInfinity), 1e-13);

    [Fact]
    public void Compute_InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => WelchInterval.Compute(1, 0, 1, 5, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => WelchInterval.Compute(5, 0, -1, 5, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => WelchInterval.Compute(5, 0, 1, 5, 0, 1, confidence: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => WelchInterval.Compute(5, double.NaN, 1, 5, 0, 1));
    }
}

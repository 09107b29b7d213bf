using Flywheel.Evaluation.Health;

namespace Flywheel.Evaluation.Tests.Health;

public class NormalTests
{
    // Reference values from mpmath (50 digits): Φ⁻¹(p) = √2·erfinv(2p − 1) at 400 digits.
    [Theory]
    [InlineData(0.975, 1.9599639845400538556)]
    [InlineData(0.8, 0.8416212335729143638)]
    [InlineData(0.3, -0.52440051270804081597)]
    [InlineData(0.999, 3.0902323061678132778)]
    [InlineData(0.02425, -1.9729610513118848376)]
    [InlineData(0.025, -1.9599639845400542118)]
    [InlineData(1e-10, -6.3613409024040561991)]
    [InlineData(1e-300, -37.047096299361199237)]
    public void Quantile_KnownValues_MatchTo1e12(double p, double expected)
    {
        var z = Normal.Quantile(p);
        Assert.True(SharedData.RelativeError(z, expected) < 1e-12, $"Φ⁻¹({p}) = {z:R}, expected {expected:R}");
    }

    [Fact]
    public void Quantile_Ends_AreInfiniteAndHalfIsZero()
    {
        Assert.Equal(double.NegativeInfinity, Normal.Quantile(0));
        Assert.Equal(double.PositiveInfinity, Normal.Quantile(1));
        Assert.Equal(0, Normal.Quantile(0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Normal.Quantile(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Normal.Quantile(double.NaN));
    }

    // Φ(x) and 1 − Φ(x) from mpmath's ncdf (50 digits).
    [Theory]
    [InlineData(1.96, 0.97500210485177956379, 0.024997895148220436213)]
    [InlineData(0.5, 0.69146246127401310364, 0.30853753872598689636)]
    [InlineData(2.0, 0.9772498680518207928, 0.0227501319481792072)]
    [InlineData(-1.9999, 0.022755531584767186476, 0.97724446841523281352)]
    [InlineData(-5.0, 2.8665157187919391167e-7, 0.99999971334842812081)]
    [InlineData(-10.0, 7.619853024160526066e-24, 1.0)]
    public void Cdf_KnownValues_MatchTo1e13(double x, double cdf, double upper)
    {
        Assert.True(SharedData.RelativeError(Normal.Cdf(x), cdf) < 1e-13, $"Φ({x}) = {Normal.Cdf(x):R}");
        Assert.True(SharedData.RelativeError(Normal.UpperTail(x), upper) < 1e-13, $"1 − Φ({x}) = {Normal.UpperTail(x):R}");
    }

    [Fact]
    public void UpperTail_FarTail_KeepsRelativePrecision()
    {
        // 1 − Φ(30) = 4.9067139271481870595e-198 (mpmath); 1 − Cdf would be 0.
        Assert.True(SharedData.RelativeError(Normal.UpperTail(30), 4.9067139271481870595e-198) < 1e-12);
        Assert.Equal(0, Normal.UpperTail(40));
    }

    [Fact]
    public void Quantile_ThenCdf_RoundTrips()
    {
        for (var p = 0.001; p < 1; p += 0.0117)
        {
            Assert.True(Math.Abs(Normal.Cdf(Normal.Quantile(p)) - p) < 1e-15 + 1e-13 * p, $"p = {p}");
        }
    }
}

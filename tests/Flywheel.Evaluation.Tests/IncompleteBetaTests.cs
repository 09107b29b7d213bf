namespace Flywheel.Evaluation.Tests;

public class IncompleteBetaTests
{
    // Reference values from mpmath (40 digits) at the same binary doubles.
    [Theory]
    [InlineData(0.3, 2, 3, 0.34829999999999998042, 0.65170000000000001958)]
    [InlineData(0.5, 0.5, 0.5, 0.5, 0.5)]
    [InlineData(0.1, 0.1, 10, 0.97614394925562589619, 0.023856050744374103812)]
    [InlineData(0.45, 300.5, 400.25, 0.87111058428012697467, 0.12888941571987302533)]
    [InlineData(0.9, 50, 3, 0.096633285137252208871, 0.90336671486274779113)]
    [InlineData(0.001, 0.7, 2.5, 0.015930547575674232527, 0.98406945242432576747)]
    [InlineData(0.62, 1234.5, 765.25, 0.59580600801003175575, 0.40419399198996824425)]
    [InlineData(0.2, 5, 40, 0.95598979275075976544, 0.044010207249240234559)]
    public void Regularized_KnownValues_MatchTo1e13(double x, double a, double b, double expected, double complement)
    {
        Assert.True(SharedData.RelativeError(IncompleteBeta.Regularized(x, a, b), expected) < 1e-13, $"I = {IncompleteBeta.Regularized(x, a, b):R}");
        Assert.True(SharedData.RelativeError(IncompleteBeta.RegularizedComplement(x, a, b), complement) < 1e-13, $"1 − I = {IncompleteBeta.RegularizedComplement(x, a, b):R}");
    }

    [Theory]
    [InlineData(0.025, 345.2, 150.7, 0.65494134135836399769)]
    [InlineData(0.975, 345.2, 150.7, 0.73577657777866776565)]
    [InlineData(0.025, 0.1, 5, 1.2703903886695207868e-17)]
    [InlineData(0.5, 2, 3, 0.38572756813238954828)]
    [InlineData(0.975, 1.5, 0.2, 0.99999999437553733355)]
    [InlineData(1e-10, 3, 4, 0.00017101953023986428779)]
    [InlineData(0.025, 1, 20, 0.0012650894979498037654)]
    [InlineData(0.9, 0.001, 1, 1.747871251722698566e-46)]
    public void Inverse_KnownValues_MatchTo1e12(double p, double a, double b, double expected)
    {
        // Near 0, x ∝ I^(1/a): a relative error ε in I is one of ε/a in x, so tiny shapes get a looser bound.
        var x = IncompleteBeta.Inverse(p, a, b);
        var tolerance = 1e-12 / Math.Min(1, a);
        Assert.True(SharedData.RelativeError(x, expected) < tolerance, $"BetaInv({p}; {a}, {b}) = {x:R}, expected {expected:R}");
    }

    [Theory]
    [InlineData(0.025, 1, 1)]
    [InlineData(0.975, 1, 1)]
    [InlineData(0.3, 4, 1)]
    [InlineData(0.025, 10, 1)]
    [InlineData(0.7, 1, 7)]
    [InlineData(0.025, 1, 250)]
    public void Inverse_ClosedForms(double p, double a, double b)
    {
        // I_x(a, 1) = x^a and I_x(1, b) = 1 − (1 − x)^b.
        var expected = b == 1 ? Math.Pow(p, 1 / a) : -double.ExpM1(double.LogP1(-p) / b);
        Assert.True(SharedData.RelativeError(IncompleteBeta.Inverse(p, a, b), expected) < 1e-13);
    }

    [Fact]
    public void Regularized_TwoTwo_IsThePolynomial()
    {
        for (var x = 0.01; x < 1; x += 0.07)
        {
            var expected = x * x * (3 - 2 * x);
            Assert.True(Math.Abs(IncompleteBeta.Regularized(x, 2, 2) - expected) < 1e-15);
        }
    }

    [Theory]
    [InlineData(0.5, 0.5)]
    [InlineData(3.25, 17)]
    [InlineData(2000, 3500.5)]
    [InlineData(0.05, 0.2)]
    public void Inverse_RoundTrips(double a, double b)
    {
        foreach (var p in new[] { 1e-12, 0.001, 0.025, 0.3, 0.5, 0.77, 0.975, 0.999999 })
        {
            var x = IncompleteBeta.Inverse(p, a, b);
            var back = p <= 0.5 ? IncompleteBeta.Regularized(x, a, b) : 1 - IncompleteBeta.RegularizedComplement(x, a, b);
            Assert.True(SharedData.RelativeError(back, p) < 1e-10 || x is 0 or 1, $"p = {p}: x = {x:R}, I = {back:R}");
        }
    }

    [Fact]
    public void Inverse_RandomShapes_BracketsTheRootWithin1e9()
    {
        // x·(1 ∓ 1e-9) must fall on either side of p: the quantile is right to 1e-9 relative, the CP bounds' tolerance.
        var random = new Random(2024);
        for (var i = 0; i < 400; i++)
        {
            var a = Math.Exp(Math.Log(0.05) + random.NextDouble() * Math.Log(2e4 / 0.05));
            var b = Math.Exp(Math.Log(0.05) + random.NextDouble() * Math.Log(2e4 / 0.05));
            var p = i % 4 == 0 ? 0.025 : i % 4 == 1 ? 0.975 : 1e-6 + random.NextDouble() * (1 - 2e-6);
            var x = IncompleteBeta.Inverse(p, a, b);
            var below = x * (1 - 1e-9);
            var above = Math.Min(1, x * (1 + 1e-9));
            var what = $"BetaInv({p:R}; {a:R}, {b:R}) = {x:R}";
            if (p <= 0.5)
            {
                Assert.True(IncompleteBeta.Regularized(below, a, b) <= p && IncompleteBeta.Regularized(above, a, b) >= p, what);
            }
            else
            {
                Assert.True(IncompleteBeta.RegularizedComplement(below, a, b) >= 1 - p && IncompleteBeta.RegularizedComplement(above, a, b) <= 1 - p, what);
            }
        }
    }

    [Fact]
    public void Inverse_Edges()
    {
        Assert.Equal(0, IncompleteBeta.Inverse(0, 2, 3));
        Assert.Equal(1, IncompleteBeta.Inverse(1, 2, 3));
        Assert.Equal(0.5, IncompleteBeta.Inverse(0.5, 7.5, 7.5), 14);
        Assert.Throws<ArgumentOutOfRangeException>(() => IncompleteBeta.Inverse(1.5, 2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => IncompleteBeta.Inverse(0.5, 0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => IncompleteBeta.Regularized(0.5, 1, double.NaN));
    }

    [Theory]
    [InlineData(0.5, 0.57236494292470008707)]
    [InlineData(1, 0)]
    [InlineData(10, 12.801827480081469611)]
    [InlineData(1000.5, 5908.6741758486774887)]
    public void LogGamma_KnownValues(double z, double expected)
        => Assert.True(Math.Abs(IncompleteBeta.LogGamma(z) - expected) <= 1e-14 * Math.Max(1, Math.Abs(expected)));
}

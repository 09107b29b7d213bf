namespace Flywheel.Evaluation.Health;

/// <summary>
/// The standard normal distribution: its CDF Φ, upper tail 1 − Φ and quantile Φ⁻¹, to about 1e-15 relative for the
/// CDF and better than 1e-12 relative for the quantile (Acklam's rational approximation refined by one Halley step
/// on the exact CDF). The CDF uses erfc: for |x| &lt; 2 the everywhere-positive series
/// erf(x) = (2/√π)·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)), beyond it the continued fraction
/// erfc(x) = (e^(−x²)/√π) / (x + ½/(x + 1/(x + (3/2)/(x + 2/(x + …))))) (Abramowitz &amp; Stegun 7.1.6 and 7.1.14),
/// so small tails keep their relative precision. Thread-safe (pure functions).
/// </summary>
public static class Normal
{
    private const double InvSqrtPi = 0.564189583547756286948079451561;
    private const double SqrtTwoPi = 2.50662827463100050241576528481;
    private const double InvSqrt2 = 0.707106781186547524400844362105;
    private const double Epsilon = 2.220446049250313e-16;

    /// <summary>Φ(<paramref name="x"/>) = P(Z ≤ x) for a standard normal Z.</summary>
    public static double Cdf(double x) => 0.5 * Erfc(-x * InvSqrt2);

    /// <summary>1 − Φ(<paramref name="x"/>) = P(Z &gt; x), computed directly so that it keeps its relative precision when small.</summary>
    public static double UpperTail(double x) => 0.5 * Erfc(x * InvSqrt2);

    /// <summary>Φ⁻¹(<paramref name="p"/>): the z with P(Z ≤ z) = p; −∞ at 0 and +∞ at 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is outside [0, 1] or NaN.</exception>
    public static double Quantile(double p)
    {
        if (!(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "must lie in [0, 1]");
        }
        if (p == 0)
        {
            return double.NegativeInfinity;
        }
        if (p == 1)
        {
            return double.PositiveInfinity;
        }
        // Solve in the lower half, where p itself is exact; 1 − p is exact for p ≥ ½.
        return p <= 0.5 ? LowerQuantile(p) : -LowerQuantile(1 - p);
    }

    /// <summary>Φ⁻¹(p) for 0 &lt; p ≤ ½.</summary>
    private static double LowerQuantile(double p)
    {
        var x = Acklam(p);
        // One Halley step on Φ(x) − p (Acklam's own refinement): u = (Φ(x) − p)/φ(x), x ← x − u/(1 + x·u/2).
        var error = Cdf(x) - p;
        var u = error * SqrtTwoPi * Math.Exp(x * x / 2);
        // Below about 1e-300 the density underflows; Acklam's value stands there.
        return double.IsFinite(u) ? x - u / (1 + x * u / 2) : x;
    }

    /// <summary>Acklam's rational approximation of Φ⁻¹(p) for 0 &lt; p ≤ ½ (relative error below 1.15e-9).</summary>
    private static double Acklam(double p)
    {
        const double low = 0.02425;
        if (p < low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            return (((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00)
                / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q + 3.754408661907416e+00) * q + 1);
        }
        var r = p - 0.5;
        var s = r * r;
        return (((((-3.969683028665376e+01 * s + 2.209460984245205e+02) * s - 2.759285104469687e+02) * s + 1.383577518672690e+02) * s - 3.066479806614716e+01) * s + 2.506628277459239e+00) * r
            / (((((-5.447609879822406e+01 * s + 1.615858368580409e+02) * s - 1.556989798598866e+02) * s + 6.680131188771972e+01) * s - 1.328068155288572e+01) * s + 1);
    }

    /// <summary>erfc(x) = 1 − erf(x), with relative precision in the upper tail.</summary>
    internal static double Erfc(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }
        if (x < 0)
        {
            return 2 - Erfc(-x);
        }
        if (x < 2)
        {
            return 1 - ErfSeries(x);
        }
        if (x > 27.3)
        {
            // e^(−x²) underflows to 0 beyond here.
            return 0;
        }
        return Math.Exp(-x * x) * InvSqrtPi * ContinuedFraction(x);
    }

    /// <summary>erf(x) for 0 ≤ x &lt; 2 by its series of positive terms (no cancellation).</summary>
    private static double ErfSeries(double x)
    {
        var x2 = x * x;
        var term = x;
        var sum = x;
        for (var n = 1; n < 200; n++)
        {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
            if (term <= Epsilon * sum)
            {
                break;
            }
        }
        return 2 * InvSqrtPi * Math.Exp(-x2) * sum;
    }

    /// <summary>1/(x + ½/(x + 1/(x + (3/2)/(x + …)))) by the modified Lentz method; converges fast for x ≥ 2.</summary>
    private static double ContinuedFraction(double x)
    {
        // K = b0 + a1/(b1 + a2/(b2 + …)) with b = x and a_k = k/2; the answer is 1/K.
        var f = x;
        var c = x;
        var d = 0.0;
        for (var k = 1; k < 500; k++)
        {
            var delta = Lentz.Step(0.5 * k, x, ref c, ref d);
            f *= delta;
            if (Math.Abs(delta - 1) <= Epsilon)
            {
                break;
            }
        }
        return 1 / f;
    }
}

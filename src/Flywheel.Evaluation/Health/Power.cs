namespace Flywheel.Evaluation.Health;

/// <summary>
/// Power and minimum detectable effect (MDE) of a two-sample z-test on a difference of means, and of proportions
/// through Cohen's h. With z_a = Φ⁻¹(1 − α/2) (two-sided; Φ⁻¹(1 − α) one-sided) and z_b = Φ⁻¹(power), detecting a
/// difference δ between arms whose outcomes have standard deviation σ needs, per arm of equal size,
/// n = 2σ²(z_a + z_b)²/δ², and arms of n1 and n2 detect δ_min = (z_a + z_b)·σ·√(1/n1 + 1/n2). These closed forms drop
/// the far tail of the two-sided test (its error is far below one observation) and match the usual power tables
/// (Cohen, "Statistical Power Analysis for the Behavioral Sciences"; statsmodels' NormalIndPower). Proportions p1, p2
/// use the arcsine transform, Cohen's h = 2·asin√p2 − 2·asin√p1, whose variance is about 1/n whatever p, so the same
/// formulas hold with σ = 1 and δ = h. Thread-safe (pure functions).
/// </summary>
public static class Power
{
    /// <summary>
    /// Observations per arm (equal arms) for a two-sample z-test to detect a difference of <paramref name="effect"/> in
    /// means with the given <paramref name="power"/>: ⌈2σ²(z_a + z_b)²/δ²⌉.
    /// </summary>
    /// <param name="effect">The difference of means to detect, δ ≠ 0 (its sign does not matter).</param>
    /// <param name="standardDeviation">σ &gt; 0 of one observation (the same in both arms).</param>
    /// <param name="alpha">The significance level, in (0, 1). <value>Default 0.05.</value></param>
    /// <param name="power">The probability of detecting δ when it is there, in (0, 1). <value>Default 0.8.</value></param>
    /// <param name="twoSided">Whether the test is two-sided. <value>Default true.</value></param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range, or the answer exceeds <see cref="long.MaxValue"/>.</exception>
    public static long SampleSizePerArm(double effect, double standardDeviation, double alpha = 0.05, double power = 0.8, bool twoSided = true)
    {
        CheckEffect(effect);
        CheckPositive(standardDeviation, nameof(standardDeviation));
        var z = CriticalSum(alpha, power, twoSided);
        var ratio = standardDeviation * z / effect;
        return Ceiling(2 * ratio * ratio, nameof(effect));
    }

    /// <summary>
    /// The smallest difference of means that arms of <paramref name="n1"/> and <paramref name="n2"/> observations detect
    /// with the given <paramref name="power"/>: (z_a + z_b)·σ·√(1/n1 + 1/n2).
    /// </summary>
    /// <param name="n1">Observations in the first arm, ≥ 1.</param>
    /// <param name="n2">Observations in the second arm, ≥ 1.</param>
    /// <param name="standardDeviation">σ &gt; 0 of one observation.</param>
    /// <param name="alpha">The significance level, in (0, 1). <value>Default 0.05.</value></param>
    /// <param name="power">The power, in (0, 1). <value>Default 0.8.</value></param>
    /// <param name="twoSided">Whether the test is two-sided. <value>Default true.</value></param>
    public static double MinimumDetectableEffect(long n1, long n2, double standardDeviation, double alpha = 0.05, double power = 0.8, bool twoSided = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n2);
        CheckPositive(standardDeviation, nameof(standardDeviation));
        return CriticalSum(alpha, power, twoSided) * standardDeviation * Math.Sqrt(1.0 / n1 + 1.0 / n2);
    }

    /// <summary>
    /// The exact power of the two-sample z-test for a standardised effect d = δ/σ with arms of <paramref name="n1"/>
    /// and <paramref name="n2"/>: with ñ = n1·n2/(n1 + n2), 1 − Φ(z_a − |d|√ñ) + Φ(−z_a − |d|√ñ) two-sided (both
    /// tails), 1 − Φ(z_a − |d|√ñ) one-sided (the tail in the direction of the effect).
    /// </summary>
    /// <param name="standardizedEffect">d = δ/σ, or Cohen's h for proportions.</param>
    /// <param name="n1">Observations in the first arm, ≥ 1.</param>
    /// <param name="n2">Observations in the second arm, ≥ 1.</param>
    /// <param name="alpha">The significance level, in (0, 1). <value>Default 0.05.</value></param>
    /// <param name="twoSided">Whether the test is two-sided. <value>Default true.</value></param>
    public static double AchievedPower(double standardizedEffect, long n1, long n2, double alpha = 0.05, bool twoSided = true)
    {
        if (double.IsNaN(standardizedEffect))
        {
            throw new ArgumentOutOfRangeException(nameof(standardizedEffect), standardizedEffect, "must be a number");
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n2);
        var za = CriticalValue(alpha, twoSided);
        var shift = Math.Abs(standardizedEffect) * Math.Sqrt((double)n1 * n2 / ((double)n1 + n2));
        var power = Normal.UpperTail(za - shift);
        return twoSided ? power + Normal.Cdf(-za - shift) : power;
    }

    /// <summary>Cohen's h = 2·asin√p2 − 2·asin√p1: the difference of two proportions on the arcsine scale.</summary>
    /// <param name="p1">The baseline proportion, in [0, 1].</param>
    /// <param name="p2">The other proportion, in [0, 1].</param>
    public static double CohensH(double p1, double p2)
    {
        CheckProportion(p1, nameof(p1));
        CheckProportion(p2, nameof(p2));
        return 2 * (Math.Asin(Math.Sqrt(p2)) - Math.Asin(Math.Sqrt(p1)));
    }

    /// <summary>
    /// Observations per arm (equal arms) to tell <paramref name="p2"/> from <paramref name="p1"/>:
    /// ⌈2(z_a + z_b)²/h²⌉ with h Cohen's h.
    /// </summary>
    /// <param name="p1">The baseline proportion, in [0, 1].</param>
    /// <param name="p2">The proportion to detect, in [0, 1] and ≠ <paramref name="p1"/>.</param>
    /// <param name="alpha">The significance level, in (0, 1). <value>Default 0.05.</value></param>
    /// <param name="power">The power, in (0, 1). <value>Default 0.8.</value></param>
    /// <param name="twoSided">Whether the test is two-sided. <value>Default true.</value></param>
    public static long ProportionSampleSizePerArm(double p1, double p2, double alpha = 0.05, double power = 0.8, bool twoSided = true)
    {
        var h = CohensH(p1, p2);
        if (h == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(p2), p2, "must differ from p1");
        }
        var ratio = CriticalSum(alpha, power, twoSided) / h;
        return Ceiling(2 * ratio * ratio, nameof(p2));
    }

    /// <summary>
    /// The smallest proportion above <paramref name="p1"/> that arms of <paramref name="n1"/> and
    /// <paramref name="n2"/> detect: p2 = sin²(asin√p1 + h_min/2) with h_min = (z_a + z_b)·√(1/n1 + 1/n2). When even
    /// p2 = 1 is too close (asin√p1 + h_min/2 ≥ π/2) the answer is NaN: no increase is detectable. For the smallest
    /// detectable decrease, use 1 − DetectableProportion(1 − p1, …).
    /// </summary>
    /// <param name="p1">The baseline proportion, in [0, 1].</param>
    /// <param name="n1">Observations in the first arm, ≥ 1.</param>
    /// <param name="n2">Observations in the second arm, ≥ 1.</param>
    /// <param name="alpha">The significance level, in (0, 1). <value>Default 0.05.</value></param>
    /// <param name="power">The power, in (0, 1). <value>Default 0.8.</value></param>
    /// <param name="twoSided">Whether the test is two-sided. <value>Default true.</value></param>
    public static double DetectableProportion(double p1, long n1, long n2, double alpha = 0.05, double power = 0.8, bool twoSided = true)
    {
        CheckProportion(p1, nameof(p1));
        var h = MinimumDetectableEffect(n1, n2, 1, alpha, power, twoSided);
        var angle = Math.Asin(Math.Sqrt(p1)) + h / 2;
        if (angle >= Math.PI / 2)
        {
            return double.NaN;
        }
        var s = Math.Sin(angle);
        return s * s;
    }

    /// <summary>z_a + z_b for the given level and power.</summary>
    private static double CriticalSum(double alpha, double power, bool twoSided)
    {
        if (!(power > 0 && power < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(power), power, "must lie strictly between 0 and 1");
        }
        var sum = CriticalValue(alpha, twoSided) + Normal.Quantile(power);
        if (!(sum > 0))
        {
            // Power at or below α (one-sided) needs no data at all; refuse rather than answer 0 observations.
            throw new ArgumentOutOfRangeException(nameof(power), power, "must exceed the test's level (z_a + z_b > 0)");
        }
        return sum;
    }

    private static double CriticalValue(double alpha, bool twoSided)
    {
        if (!(alpha > 0 && alpha < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "must lie strictly between 0 and 1");
        }
        // 1 − α/2 is computed as a quantile of the upper tail by symmetry: Φ⁻¹(1 − q) = −Φ⁻¹(q) keeps tiny α exact.
        return -Normal.Quantile(twoSided ? alpha / 2 : alpha);
    }

    private static long Ceiling(double n, string parameter)
    {
        var ceiling = Math.Ceiling(n);
        if (!(ceiling < long.MaxValue))
        {
            throw new ArgumentOutOfRangeException(parameter, "the effect is too small: more than long.MaxValue observations per arm");
        }
        return Math.Max(1, (long)ceiling);
    }

    private static void CheckEffect(double effect)
    {
        if (!double.IsFinite(effect) || effect == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(effect), effect, "must be a finite number ≠ 0");
        }
    }

    private static void CheckPositive(double value, string parameter)
    {
        if (!(value > 0) || double.IsPositiveInfinity(value))
        {
            throw new ArgumentOutOfRangeException(parameter, value, "must be a finite number > 0");
        }
    }

    private static void CheckProportion(double p, string parameter)
    {
        if (!(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(parameter, p, "must lie in [0, 1]");
        }
    }
}

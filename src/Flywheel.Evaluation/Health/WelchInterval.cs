namespace Flywheel.Evaluation.Health;

/// <summary>
/// The difference of two means, Δ = mean_T − mean_C (treatment minus control, e.g. a new champion's reward minus its
/// predecessor's), with Welch's interval, which does not assume equal variances (B. L. Welch, "The generalization of
/// Student's problem when several different population variances are involved", Biometrika 1947): with
/// SE² = s_T²/n_T + s_C²/n_C and the Welch–Satterthwaite degrees of freedom
/// ν = SE⁴ / [(s_T²/n_T)²/(n_T − 1) + (s_C²/n_C)²/(n_C − 1)], the interval is Δ ± t_{ν, (1+confidence)/2}·SE.
/// The Student-t quantile comes from the regularized incomplete beta function: for t &gt; 0,
/// P(T_ν &gt; t) = ½·I_{ν/(ν+t²)}(ν/2, ½), so t = √(ν·y/(1 − y)) with y = 1 − ν/(ν+t²) the confidence-quantile of
/// Beta(½, ν/2); above 10⁵ degrees of freedom, where that beta's shapes get lopsided, the Cornish–Fisher expansion of
/// t about the normal quantile takes over (Abramowitz &amp; Stegun 26.7.5). When both variances are 0, SE = 0 and the interval is the single point Δ (ν is then +∞).
/// </summary>
/// <param name="Difference">Δ = mean_T − mean_C.</param>
/// <param name="StandardError">SE = √(s_T²/n_T + s_C²/n_C).</param>
/// <param name="DegreesOfFreedom">ν, the Welch–Satterthwaite degrees of freedom (between min(n_T, n_C) − 1 and n_T + n_C − 2).</param>
/// <param name="Lower">Δ − t·SE.</param>
/// <param name="Upper">Δ + t·SE.</param>
/// <param name="Confidence">The two-sided confidence level of the interval.</param>
public readonly record struct WelchInterval(double Difference, double StandardError, double DegreesOfFreedom, double Lower, double Upper, double Confidence)
{
    /// <summary>The default confidence level, 0.95.</summary>
    public const double DefaultConfidence = 0.95;

    /// <summary>Above this many degrees of freedom the t quantile comes from its expansion about the normal one.</summary>
    private const double LargeDegreesOfFreedom = 1e5;

    /// <summary>True when <paramref name="x"/> lies in [<see cref="Lower"/>, <see cref="Upper"/>].</summary>
    public bool Contains(double x) => x >= Lower && x <= Upper;

    /// <summary>True when the interval excludes 0: the difference is significant at 1 − <see cref="Confidence"/>.</summary>
    public bool IsSignificant => Lower > 0 || Upper < 0;

    /// <summary>The interval from each arm's count, mean and sample variance (divisor n − 1).</summary>
    /// <param name="treatmentCount">n_T ≥ 2.</param>
    /// <param name="treatmentMean">The treatment arm's mean.</param>
    /// <param name="treatmentVariance">s_T² ≥ 0, the treatment arm's sample variance.</param>
    /// <param name="controlCount">n_C ≥ 2.</param>
    /// <param name="controlMean">The control arm's mean.</param>
    /// <param name="controlVariance">s_C² ≥ 0, the control arm's sample variance.</param>
    /// <param name="confidence">The two-sided confidence level, in (0, 1). <value>Default 0.95.</value></param>
    public static WelchInterval Compute(long treatmentCount, double treatmentMean, double treatmentVariance, long controlCount, double controlMean, double controlVariance, double confidence = DefaultConfidence)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(treatmentCount, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(controlCount, 2);
        CheckFinite(treatmentMean, nameof(treatmentMean));
        CheckFinite(controlMean, nameof(controlMean));
        CheckVariance(treatmentVariance, nameof(treatmentVariance));
        CheckVariance(controlVariance, nameof(controlVariance));
        if (!(confidence > 0 && confidence < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "must lie strictly between 0 and 1");
        }
        var difference = treatmentMean - controlMean;
        var vt = treatmentVariance / treatmentCount;
        var vc = controlVariance / controlCount;
        var se2 = vt + vc;
        if (se2 == 0)
        {
            return new WelchInterval(difference, 0, double.PositiveInfinity, difference, difference, confidence);
        }
        var df = se2 * se2 / (vt * vt / (treatmentCount - 1) + vc * vc / (controlCount - 1));
        var se = Math.Sqrt(se2);
        var half = StudentQuantile(confidence, df) * se;
        return new WelchInterval(difference, se, df, difference - half, difference + half, confidence);
    }

    /// <summary>
    /// The interval from streaming sums of each arm: count n, Σx and Σx². The variance (Σx² − (Σx)²/n)/(n − 1) loses
    /// digits when the mean is large against the spread; prefer <see cref="Compute"/> with Welford-style variances then.
    /// </summary>
    /// <param name="treatmentCount">n_T ≥ 2.</param>
    /// <param name="treatmentSum">Σx over the treatment arm.</param>
    /// <param name="treatmentSumOfSquares">Σx² over the treatment arm.</param>
    /// <param name="controlCount">n_C ≥ 2.</param>
    /// <param name="controlSum">Σx over the control arm.</param>
    /// <param name="controlSumOfSquares">Σx² over the control arm.</param>
    /// <param name="confidence">The two-sided confidence level, in (0, 1). <value>Default 0.95.</value></param>
    public static WelchInterval FromSums(long treatmentCount, double treatmentSum, double treatmentSumOfSquares, long controlCount, double controlSum, double controlSumOfSquares, double confidence = DefaultConfidence)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(treatmentCount, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(controlCount, 2);
        return Compute(
            treatmentCount, treatmentSum / treatmentCount, Variance(treatmentCount, treatmentSum, treatmentSumOfSquares),
            controlCount, controlSum / controlCount, Variance(controlCount, controlSum, controlSumOfSquares),
            confidence);
    }

    /// <summary>
    /// The two-sided Student-t critical value t_{ν, (1+confidence)/2}: the t &gt; 0 with P(|T_ν| ≤ t) = confidence.
    /// ν = +∞ gives the normal quantile. Accurate to about 1e-12 relative.
    /// </summary>
    /// <param name="confidence">In (0, 1).</param>
    /// <param name="degreesOfFreedom">ν &gt; 0.</param>
    public static double StudentQuantile(double confidence, double degreesOfFreedom)
    {
        if (!(confidence > 0 && confidence < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "must lie strictly between 0 and 1");
        }
        if (!(degreesOfFreedom > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom), degreesOfFreedom, "must be > 0");
        }
        var z = -Normal.Quantile((1 - confidence) / 2);
        if (degreesOfFreedom > LargeDegreesOfFreedom)
        {
            // Far out the incomplete beta's shapes (ν/2 ≫ ½) cost precision; the expansion in 1/ν is exact to rounding.
            return CornishFisher(z, degreesOfFreedom);
        }
        // P(|T| ≤ t) = 1 − I_{ν/(ν+t²)}(ν/2, ½) = I_{t²/(ν+t²)}(½, ν/2). Solve for the smaller of y = t²/(ν+t²) and
        // 1 − y so that t² = ν·y/(1 − y) keeps its precision at both ends.
        var y = IncompleteBeta.Inverse(confidence, 0.5, degreesOfFreedom / 2);
        if (y <= 0.5)
        {
            return Math.Sqrt(degreesOfFreedom * y / (1 - y));
        }
        var x = IncompleteBeta.Inverse(1 - confidence, degreesOfFreedom / 2, 0.5);
        return Math.Sqrt(degreesOfFreedom * (1 - x) / x);
    }

    /// <summary>
    /// The Cornish–Fisher expansion of the Student-t quantile about the normal one (Abramowitz &amp; Stegun 26.7.5):
    /// t = z + g1(z)/ν + g2(z)/ν² + g3(z)/ν³ + g4(z)/ν⁴; above ν = 1e5 the terms left out are far below rounding.
    /// </summary>
    private static double CornishFisher(double z, double degreesOfFreedom)
    {
        var z2 = z * z;
        var g1 = (z2 + 1) * z / 4;
        var g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
        var g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
        var g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
        var inv = 1 / degreesOfFreedom;
        return z + inv * (g1 + inv * (g2 + inv * (g3 + inv * g4)));
    }

    private static double Variance(long count, double sum, double sumOfSquares)
    {
        CheckFinite(sum, nameof(sum));
        CheckFinite(sumOfSquares, nameof(sumOfSquares));
        // Rounding can make Σx² − (Σx)²/n a hair negative when every value is equal.
        return Math.Max(0, (sumOfSquares - sum * sum / count) / (count - 1));
    }

    private static void CheckFinite(double value, string parameter)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(parameter, value, "must be finite");
        }
    }

    private static void CheckVariance(double value, string parameter)
    {
        if (!(value >= 0) || double.IsPositiveInfinity(value))
        {
            throw new ArgumentOutOfRangeException(parameter, value, "must be a finite number ≥ 0");
        }
    }
}

namespace Flywheel.Evaluation;

/// <summary>
/// One estimator's value with its 95% interval. An interval that cannot be computed (n ≤ 1 for the Gaussian
/// intervals) is (−∞, +∞); a value that cannot be computed (SNIPS when Σw = 0) is NaN.
/// </summary>
/// <param name="Value">The estimate.</param>
/// <param name="Lower">The interval's lower end, or −∞.</param>
/// <param name="Upper">The interval's upper end, or +∞.</param>
public readonly record struct Estimate(double Value, double Lower, double Upper)
{
    /// <summary>z of the two-sided 95% normal interval, Φ⁻¹(0.975).</summary>
    public const double Z95 = 1.959963984540054;

    /// <summary>True when both ends are finite.</summary>
    public bool IsBounded => double.IsFinite(Lower) && double.IsFinite(Upper);

    /// <summary>True when <paramref name="x"/> lies in [<see cref="Lower"/>, <see cref="Upper"/>].</summary>
    public bool Contains(double x) => x >= Lower && x <= Upper;

    /// <summary>
    /// V ± z·s/√n with s² = <paramref name="sumOfSquaredDeviations"/> / (n − 1), the sample variance of the per-row
    /// terms; (−∞, +∞) when n ≤ 1 or the value is NaN.
    /// </summary>
    public static Estimate Gaussian(double value, double sumOfSquaredDeviations, long count)
    {
        if (count <= 1 || double.IsNaN(value))
        {
            return new Estimate(value, double.NegativeInfinity, double.PositiveInfinity);
        }
        var variance = Math.Max(0, sumOfSquaredDeviations) / (count - 1);
        var half = Z95 * Math.Sqrt(variance / count);
        return new Estimate(value, value - half, value + half);
    }
}

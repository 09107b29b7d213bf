using System.Text.Json.Serialization;
using Flywheel.Core.Json;
namespace Flywheel.Core;

/// <summary>
/// One estimator's value with its 95% interval. An interval that cannot be computed (n ≤ 1) is (−∞, +∞); a value that
/// cannot be computed (SNIPS when Σw = 0) is NaN. The off-policy intervals are built from <see cref="Gaussian(double, double, long, double)"/>
/// and may not contain the value (they are clipped to the reward range); see docs/estimators.md, "Intervals".
/// </summary>
/// <param name="Value">The estimate.</param>
/// <param name="Lower">The interval's lower end, or −∞.</param>
/// <param name="Upper">The interval's upper end, or +∞.</param>
[JsonConverter(typeof(EstimateConverter))]
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
    public static Estimate Gaussian(double value, double sumOfSquaredDeviations, long count) => Gaussian(value, sumOfSquaredDeviations, count, Z95);

    /// <summary>The same interval with another <paramref name="z"/> (see <see cref="ZFor"/>).</summary>
    public static Estimate Gaussian(double value, double sumOfSquaredDeviations, long count, double z)
    {
        if (count <= 1 || double.IsNaN(value))
        {
            return new Estimate(value, double.NegativeInfinity, double.PositiveInfinity);
        }
        var variance = Math.Max(0, sumOfSquaredDeviations) / (count - 1);
        var half = z * Math.Sqrt(variance / count);
        return new Estimate(value, value - half, value + half);
    }

    /// <summary>
    /// z of the two-sided normal interval at <paramref name="confidence"/>: Φ⁻¹((1 + confidence)/2); exactly
    /// <see cref="Z95"/> at 0.95, elsewhere Acklam's rational approximation (relative error below 1.2e-9).
    /// </summary>
    public static double ZFor(double confidence)
    {
        if (!(confidence > 0 && confidence < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "must lie strictly between 0 and 1");
        }
        return confidence == 0.95 ? Z95 : NormalQuantile((1 + confidence) / 2);
    }

    private static double NormalQuantile(double p)
    {
        ReadOnlySpan<double> a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        ReadOnlySpan<double> b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        ReadOnlySpan<double> c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        ReadOnlySpan<double> d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425;
        if (p < low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - low)
        {
            var q = Math.Sqrt(-2 * Math.Log(1 - p));
            return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        var r = p - 0.5;
        var s = r * r;
        return (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1);
    }
}

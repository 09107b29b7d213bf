namespace Flywheel.Evaluation;

/// <summary>
/// The regularized incomplete beta function I_x(a, b), its complement and its inverse in x, to about 1e-14 relative
/// for the parameters Clopper–Pearson intervals use. I_x is evaluated by the continued fraction of Abramowitz &amp;
/// Stegun 26.5.8 (modified Lentz), on whichever side of the mean it converges fast, times the factor
/// x^a·(1−x)^b / B(a, b). That factor is computed without cancellation for large a and b: with Stirling's error term
/// δ(z) = ln Γ(z) − (z − ½)·ln z + z − ½·ln 2π and the deviance bd0(x, M) = x·ln(x/M) + M − x (series near x = M),
/// it equals √(ab / 2π(a+b))·exp(δ(a+b) − δ(a) − δ(b) − bd0(a, (a+b)x) − bd0(b, (a+b)(1−x))). The inverse is a
/// Newton iteration kept inside a shrinking bracket (bisection when a step would leave it) on the tail where the
/// answer lies, so tiny quantiles keep their relative precision. Accuracy falls when b is huge and a small (a = ½,
/// the Student-t case: absolute error about 1e-13 at b = 5·10⁵, 3e-10 at 5·10⁸), which is why the Welch interval
/// switches to an expansion above 10⁵ degrees of freedom. Thread-safe (pure functions).
/// </summary>
public static class IncompleteBeta
{
    private const double HalfLogTwoPi = 0.918938533204672741780329736406;
    private const double TwoPi = 6.28318530717958647692528676656;
    private const double Epsilon = 2.220446049250313e-16;
    private const int MaxFractionTerms = 1_000_000;
    private const int MaxInverseSteps = 400;

    /// <summary>I_x(a, b) = B(x; a, b) / B(a, b), the CDF of Beta(a, b) at <paramref name="x"/> (0 below 0, 1 above 1).</summary>
    public static double Regularized(double x, double a, double b)
    {
        CheckShape(a, b);
        if (double.IsNaN(x))
        {
            return double.NaN;
        }
        if (x <= 0)
        {
            return 0;
        }
        if (x >= 1)
        {
            return 1;
        }
        return Evaluate(x, 1 - x, a, b, out _);
    }

    /// <summary>1 − I_x(a, b), computed directly so that it keeps its relative precision when small.</summary>
    public static double RegularizedComplement(double x, double a, double b)
    {
        CheckShape(a, b);
        if (double.IsNaN(x))
        {
            return double.NaN;
        }
        if (x <= 0)
        {
            return 1;
        }
        if (x >= 1)
        {
            return 0;
        }
        Evaluate(x, 1 - x, a, b, out var complement);
        return complement;
    }

    /// <summary>The x in [0, 1] with I_x(a, b) = <paramref name="p"/>: the <paramref name="p"/>-quantile of Beta(a, b).</summary>
    public static double Inverse(double p, double a, double b)
    {
        CheckShape(a, b);
        if (!(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "must lie in [0, 1]");
        }
        if (p == 0)
        {
            return 0;
        }
        if (p == 1)
        {
            return 1;
        }
        var q = 1 - p;
        // Solve on the half of [0, 1] that holds the answer, in the variable that is small there: x below ½, 1 − x above.
        if (p <= Evaluate(0.5, 0.5, a, b, out _))
        {
            return SolveLowerHalf(p, q, a, b);
        }
        // I_x(a, b) = p  ⇔  I_{1−x}(b, a) = q.
        return 1 - SolveLowerHalf(q, p, b, a);
    }

    private static void CheckShape(double a, double b)
    {
        if (!(a > 0) || double.IsPositiveInfinity(a))
        {
            throw new ArgumentOutOfRangeException(nameof(a), a, "must be a finite number > 0");
        }
        if (!(b > 0) || double.IsPositiveInfinity(b))
        {
            throw new ArgumentOutOfRangeException(nameof(b), b, "must be a finite number > 0");
        }
    }

    /// <summary>I_x(a, b) with y = 1 − x given separately; its complement in <paramref name="complement"/>.</summary>
    private static double Evaluate(double x, double y, double a, double b, out double complement)
    {
        // The fraction for I_x(a, b) converges fast below the mean, the one for I_y(b, a) above it.
        if (x < (a + 1) / (a + b + 2))
        {
            var lower = Math.Min(1, PowerTerm(x, y, a, b) * ContinuedFraction(x, a, b) / a);
            complement = 1 - lower;
            return lower;
        }
        complement = Math.Min(1, PowerTerm(x, y, a, b) * ContinuedFraction(y, b, a) / b);
        return 1 - complement;
    }

    /// <summary>x^a·y^b / B(a, b), accurate for large a and b (see the class remarks).</summary>
    internal static double PowerTerm(double x, double y, double a, double b)
    {
        if (x <= 0 || y <= 0)
        {
            return 0;
        }
        var c = a + b;
        var exponent = StirlingError(c) - StirlingError(a) - StirlingError(b) - Deviance(a, c * x) - Deviance(b, c * y);
        return Math.Sqrt(a / c * b / TwoPi) * Math.Exp(exponent);
    }

    /// <summary>
    /// 1 / (1 + d1/(1 + d2/(1 + …))) with d_{2m+1} = −(a+m)(a+b+m)x / ((a+2m)(a+2m+1)) and
    /// d_{2m} = m(b−m)x / ((a+2m−1)(a+2m)), so that I_x(a, b) = x^a·y^b / (a·B(a, b)) times it (A&amp;S 26.5.8).
    /// </summary>
    private static double ContinuedFraction(double x, double a, double b)
    {
        // Modified Lentz on K = 1 + d1/(1 + d2/(1 + …)): f_n = f_{n−1}·C_n·D_n with C_n = 1 + d_n/C_{n−1},
        // D_n = 1/(1 + d_n·D_{n−1}), starting from f_0 = C_0 = 1, D_0 = 0.
        var f = 1.0;
        var c = 1.0;
        var d = 0.0;
        for (var n = 1; n <= MaxFractionTerms; n++)
        {
            double term;
            if ((n & 1) == 1)
            {
                var m = (n - 1) / 2;
                term = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
            }
            else
            {
                var m = n / 2;
                term = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
            }
            var delta = Lentz.Step(term, 1, ref c, ref d);
            f *= delta;
            if (Math.Abs(delta - 1) <= Epsilon)
            {
                break;
            }
        }
        return 1 / f;
    }

    /// <summary>
    /// δ(z) = ln Γ(z) − (z − ½)·ln z + z − ½·ln 2π. For z ≥ 15, Stirling's series (error below 1e-18); below, the
    /// recurrence Γ(z) = Γ(z + N) / (z(z+1)…(z+N−1)) moved up to 15.
    /// </summary>
    internal static double StirlingError(double z)
    {
        if (z >= 15)
        {
            return StirlingSeries(z);
        }
        var shift = (int)Math.Ceiling(15 - z);
        var y = z + shift;
        var product = 1.0;
        for (var k = 0; k < shift; k++)
        {
            product *= z + k;
        }
        return StirlingSeries(y) + (y - 0.5) * Math.Log(y) - y - Math.Log(product) - (z - 0.5) * Math.Log(z) + z;
    }

    // Σ B_2k / (2k(2k−1) z^(2k−1)), k = 1..8; the next term is below 1e-19 at z = 15.
    private static double StirlingSeries(double z)
    {
        var inv = 1 / z;
        var inv2 = inv * inv;
        return inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 * (1.0 / 1680 - inv2 * (1.0 / 1188
            - inv2 * (691.0 / 360360 - inv2 * (1.0 / 156 - inv2 * (3617.0 / 122400))))))));
    }

    /// <summary>ln Γ(z) for z &gt; 0.</summary>
    internal static double LogGamma(double z) => (z - 0.5) * Math.Log(z) - z + HalfLogTwoPi + StirlingError(z);

    /// <summary>bd0(x, M) = x·ln(x/M) + M − x ≥ 0, by its series in v = (x − M)/(x + M) when x is near M.</summary>
    internal static double Deviance(double x, double m)
    {
        if (Math.Abs(x - m) < 0.1 * (x + m))
        {
            // x·ln((1+v)/(1−v)) − (x − M) = (x − M)·v + 2x·Σ_{j≥1} v^(2j+1)/(2j+1).
            var v = (x - m) / (x + m);
            var sum = (x - m) * v;
            var power = 2 * x * v;
            var v2 = v * v;
            for (var j = 1; j < 1000; j++)
            {
                power *= v2;
                var next = sum + power / (2 * j + 1);
                if (next == sum)
                {
                    return sum;
                }
                sum = next;
            }
            return sum;
        }
        return x * Math.Log(x / m) + m - x;
    }

    /// <summary>Finds x ≤ ½ with I_x(a, b) = p (q = 1 − p), knowing I_½(a, b) ≥ p.</summary>
    private static double SolveLowerHalf(double p, double q, double a, double b)
    {
        double lo = 0, hi = 0.5;
        var x = InitialGuess(p, a, b);
        if (!(x > lo && x < hi))
        {
            x = 0.25;
        }
        for (var step = 0; step < MaxInverseSteps; step++)
        {
            var y = 1 - x;
            var lower = Evaluate(x, y, a, b, out var upper);
            // Compare on the smaller tail, where the values keep their relative precision.
            var error = p <= 0.5 ? lower - p : q - upper;
            if (error == 0)
            {
                return x;
            }
            if (error > 0)
            {
                hi = x;
            }
            else
            {
                lo = x;
            }
            var density = PowerTerm(x, y, a, b) / (x * y);
            var next = x - error / density;
            if (!(next > lo && next < hi))
            {
                // Newton on ln I against ln x, which is nearly linear in the far left tail; else bisect.
                next = lower > 0 && density > 0 && p <= 0.5
                    ? x * Math.Exp(-(Math.Log(lower) - Math.Log(p)) * lower / (x * density))
                    : double.NaN;
                if (!(next > lo && next < hi))
                {
                    next = lo > 0 && hi > 4 * lo ? Math.Sqrt(lo * hi) : lo == 0 ? hi / 4 : 0.5 * (lo + hi);
                }
            }
            if (Math.Abs(next - x) <= 4 * Epsilon * next || hi - lo <= 4 * Epsilon * hi)
            {
                return next;
            }
            x = next;
        }
        return x;
    }

    /// <summary>A starting point: the normal approximation for large shapes, the left-tail power law I ≈ x^a/(a·B) else.</summary>
    private static double InitialGuess(double p, double a, double b)
    {
        if (a > 1 && b > 1)
        {
            var c = a + b;
            var mean = a / c;
            var sd = Math.Sqrt(a * b / (c * c * (c + 1)));
            var guess = mean + NormalQuantileApproximation(p) * sd;
            if (guess > 0 && guess < 0.5)
            {
                return guess;
            }
        }
        var logBeta = LogGamma(a) + LogGamma(b) - LogGamma(a + b);
        return Math.Exp((Math.Log(p) + Math.Log(a) + logBeta) / a);
    }

    // Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4): only a starting point for Newton.
    private static double NormalQuantileApproximation(double p)
    {
        var tail = Math.Min(p, 1 - p);
        var t = Math.Sqrt(-2 * Math.Log(tail));
        var z = t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1 + t * (1.432788 + t * (0.189269 + t * 0.001308)));
        return p < 0.5 ? -z : z;
    }
}

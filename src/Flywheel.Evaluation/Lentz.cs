namespace Flywheel.Evaluation;

/// <summary>
/// One step of the modified Lentz method for a continued fraction b0 + a1/(b1 + a2/(b2 + …)): with
/// C_n = b_n + a_n/C_{n−1} and D_n = 1/(b_n + a_n·D_{n−1}) (each kept away from zero), f_n = f_{n−1}·C_n·D_n.
/// Shared by the incomplete beta function and the normal tail.
/// </summary>
internal static class Lentz
{
    private const double Tiny = 1e-300;

    /// <summary>Advances <paramref name="c"/> and <paramref name="d"/> by the term a/b; returns the factor C_n·D_n.</summary>
    public static double Step(double a, double b, ref double c, ref double d)
    {
        d = b + a * d;
        if (Math.Abs(d) < Tiny)
        {
            d = Tiny;
        }
        d = 1 / d;
        c = b + a / c;
        if (Math.Abs(c) < Tiny)
        {
            c = Tiny;
        }
        return c * d;
    }
}

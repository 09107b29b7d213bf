using System.Runtime.CompilerServices;
namespace Flywheel.Learning.Replay;

/// <summary>
/// A fast path for the plain decimals that fill replay files (<c>-12.034</c>): at most 15 significant digits and 22
/// decimals, no exponent, no spaces. The mantissa and the power of ten are then both exact doubles, so their quotient
/// is the correctly rounded value, the same bits <see cref="double.Parse(string)"/> returns. Anything else is left to
/// <see cref="double.TryParse(ReadOnlySpan{char}, System.Globalization.NumberStyles, IFormatProvider?, out double)"/>.
/// </summary>
internal static class DecimalText
{
    private static readonly double[] PowersOfTen =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    /// <summary>Parses <paramref name="text"/> when it is a plain decimal; false sends the caller to the full parser.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryParsePlain(ReadOnlySpan<char> text, out double value)
    {
        value = 0;
        var i = 0;
        var negative = false;
        if (text.Length > 0 && (text[0] == '-' || text[0] == '+'))
        {
            negative = text[0] == '-';
            i = 1;
        }
        ulong mantissa = 0;
        int significant = 0, decimals = 0;
        bool digits = false, point = false;
        for (; i < text.Length; i++)
        {
            var d = (uint)(text[i] - '0');
            if (d <= 9)
            {
                digits = true;
                decimals += point ? 1 : 0;
                if (mantissa == 0 && d == 0)
                {
                    continue; // a leading zero adds no significant digit
                }
                if (++significant > 15)
                {
                    return false;
                }
                mantissa = mantissa * 10 + d;
            }
            else if (text[i] == '.' && !point)
            {
                point = true;
            }
            else
            {
                return false;
            }
        }
        if (!digits || decimals >= PowersOfTen.Length)
        {
            return false;
        }
        var magnitude = decimals == 0 ? mantissa : mantissa / PowersOfTen[decimals];
        value = negative ? -magnitude : magnitude;
        return true;
    }
}

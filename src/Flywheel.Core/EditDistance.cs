namespace Flywheel.Core;

/// <summary>
/// Levenshtein distance between texts (insertions, deletions and substitutions of UTF-16 code units, each costing 1),
/// computed with Myers' bit-parallel algorithm in Hyyrö's block form: O(⌈m/64⌉·n) time and O(m/64) memory, so two
/// 64,000-character texts cost about a million word operations per thousand characters rather than 4·10⁹ cell updates.
/// </summary>
public static class EditDistance
{
    /// <summary>The number of single-character edits that turn <paramref name="a"/> into <paramref name="b"/>.</summary>
    public static int Levenshtein(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        // Strip the common prefix and suffix: edits are usually local, and the rest costs nothing.
        var prefix = a.CommonPrefixLength(b);
        a = a[prefix..];
        b = b[prefix..];
        var suffix = 0;
        while (suffix < a.Length && suffix < b.Length && a[^(suffix + 1)] == b[^(suffix + 1)])
        {
            suffix++;
        }
        a = a[..^suffix];
        b = b[..^suffix];
        if (a.Length < b.Length)
        {
            var t = a;
            a = b;
            b = t;
        }
        // b is the pattern (the shorter), a the text scanned once.
        var m = b.Length;
        if (m == 0)
        {
            return a.Length;
        }
        var blocks = (m + 63) >> 6;
        var peq = new Dictionary<char, ulong[]>();
        for (var i = 0; i < m; i++)
        {
            if (!peq.TryGetValue(b[i], out var bits))
            {
                peq[b[i]] = bits = new ulong[blocks];
            }
            bits[i >> 6] |= 1UL << (i & 63);
        }
        var pv = new ulong[blocks];
        var mv = new ulong[blocks];
        Array.Fill(pv, ulong.MaxValue);
        var lastBit = 1UL << ((m - 1) & 63);
        var score = m;
        var zero = new ulong[blocks];
        foreach (var c in a)
        {
            var eq = peq.TryGetValue(c, out var e) ? e : zero;
            // The horizontal deltas carried from one block to the next: +1 at the top row for every column.
            int hin = 1;
            for (var k = 0; k < blocks; k++)
            {
                var eqk = eq[k];
                var pvk = pv[k];
                var mvk = mv[k];
                var xv = eqk | mvk;
                if (hin < 0)
                {
                    eqk |= 1UL;
                }
                var xh = (((eqk & pvk) + pvk) ^ pvk) | eqk;
                var ph = mvk | ~(xh | pvk);
                var mh = pvk & xh;
                var top = k == blocks - 1 ? lastBit : 1UL << 63;
                var hout = (ph & top) != 0 ? 1 : (mh & top) != 0 ? -1 : 0;
                ph <<= 1;
                mh <<= 1;
                if (hin < 0)
                {
                    mh |= 1UL;
                }
                else if (hin > 0)
                {
                    ph |= 1UL;
                }
                pv[k] = mh | ~(xv | ph);
                mv[k] = ph & xv;
                hin = hout;
            }
            score += hin;
        }
        return score;
    }

    /// <summary>
    /// The Levenshtein distance divided by the longer text's length: 0 for the same text, 1 when nothing of the
    /// original survives (or one text is empty and the other not).
    /// </summary>
    public static double Normalized(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        var longer = Math.Max(a.Length, b.Length);
        return longer == 0 ? 0 : (double)Levenshtein(a, b) / longer;
    }
}

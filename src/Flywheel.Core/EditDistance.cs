namespace Flywheel.Core;

/// <summary>
/// Levenshtein distance between texts (insertions, deletions and substitutions of UTF-16 code units, each costing 1),
/// computed with Myers' bit-parallel algorithm in Hyyrö's block form: O(⌈m/64⌉·n) time, where m is the shorter text's
/// length, and memory linear in m (at most about 20 bytes per character, however many distinct characters it holds), so
/// two 65,536-character texts cost about 67 million word operations rather than 4·10⁹ cell updates.
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
        var peq = new MatchBits(b, blocks);
        var pv = new ulong[blocks];
        var mv = new ulong[blocks];
        Array.Fill(pv, ulong.MaxValue);
        var lastBit = 1UL << ((m - 1) & 63);
        var score = m;
        foreach (var c in a)
        {
            var eq = peq.Row(c);
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
    /// The word operations <see cref="Levenshtein"/> may need for texts of these lengths (before it trims their common
    /// ends): ⌈shorter/64⌉ × longer. What a caller budgets the measurement by.
    /// </summary>
    public static long Work(int lengthA, int lengthB)
    {
        var (shorter, longer) = lengthA < lengthB ? (lengthA, lengthB) : (lengthB, lengthA);
        return ((shorter + 63L) >> 6) * longer;
    }

    /// <summary>
    /// Each character's match bits in the pattern, one word per 64-character block. Dense (a row per distinct character)
    /// while that stays small; otherwise, for texts of many distinct characters (CJK, or hostile input), a small hash
    /// table per block holding only the at most 64 characters that occur in it, so memory stays linear in the length.
    /// </summary>
    private sealed class MatchBits
    {
        private const int DenseWords = 1 << 19; // 4 MiB
        private const int Slots = 128;           // per block: at most 64 characters, so at most half full

        private readonly int _blocks;
        private readonly Dictionary<char, int>? _rows;
        private readonly ulong[]? _dense;
        private readonly char[]? _keys;
        private readonly ulong[]? _values;
        private readonly ulong[] _scratch;

        public MatchBits(ReadOnlySpan<char> pattern, int blocks)
        {
            _blocks = blocks;
            _scratch = new ulong[blocks];
            var rows = new Dictionary<char, int>();
            foreach (var c in pattern)
            {
                rows.TryAdd(c, rows.Count);
            }
            if ((long)rows.Count * blocks <= DenseWords)
            {
                _rows = rows;
                _dense = new ulong[rows.Count * blocks];
                for (var i = 0; i < pattern.Length; i++)
                {
                    _dense[(rows[pattern[i]] * blocks) + (i >> 6)] |= 1UL << (i & 63);
                }
                return;
            }
            _keys = new char[blocks * Slots];
            _values = new ulong[blocks * Slots];
            for (var i = 0; i < pattern.Length; i++)
            {
                var at = Find(i >> 6, pattern[i]);
                _keys[at] = pattern[i];
                _values[at] |= 1UL << (i & 63);
            }
        }

        /// <summary>The slot of <paramref name="c"/> in block <paramref name="block"/>, or the empty slot where it would go.</summary>
        private int Find(int block, char c)
        {
            var start = block * Slots;
            var slot = (c * 40503) & (Slots - 1);
            while (_values![start + slot] != 0 && _keys![start + slot] != c)
            {
                slot = (slot + 1) & (Slots - 1);
            }
            return start + slot;
        }

        public ReadOnlySpan<ulong> Row(char c)
        {
            if (_dense is not null)
            {
                // Characters of the text that the pattern lacks match nowhere: the scratch row stays zero on this path.
                return _rows!.TryGetValue(c, out var row) ? _dense.AsSpan(row * _blocks, _blocks) : _scratch;
            }
            for (var k = 0; k < _blocks; k++)
            {
                _scratch[k] = _values![Find(k, c)];
            }
            return _scratch;
        }
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

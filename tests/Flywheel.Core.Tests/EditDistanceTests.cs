namespace Flywheel.Core.Tests;

/// <summary>The bit-parallel Levenshtein distance against the textbook dynamic programme it replaces.</summary>
public sealed class EditDistanceTests
{
    private static readonly string[] Alphabets =
    [
        "ab",
        "acgt",
        "abcdefghijklmnopqrstuvwxyz ",
        "éàü中文😀\u0301",
    ];

    [Theory]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("flaw", "lawn", 2)]
    [InlineData("", "", 0)]
    [InlineData("", "abc", 3)]
    [InlineData("abc", "", 3)]
    [InlineData("same", "same", 0)]
    [InlineData("intention", "execution", 5)]
    [InlineData("a", "b", 1)]
    public void Levenshtein_KnownPairs_GivesTheKnownDistance(string a, string b, int expected)
    {
        Assert.Equal(expected, EditDistance.Levenshtein(a, b));
        Assert.Equal(expected, EditDistance.Levenshtein(b, a));
    }

    [Fact]
    public void Levenshtein_RandomPairsAcrossBlockBoundaries_EqualsTheDynamicProgramme()
    {
        var random = new Random(20261207);
        var lengths = new[] { 0, 1, 2, 63, 64, 65, 127, 128, 129, 191, 192, 193, 255, 256, 257, 300 };
        var pairs = 0;
        foreach (var alphabet in Alphabets)
        {
            for (var i = 0; i < 150; i++)
            {
                // Half the pairs take lengths on the block edges, half anywhere in 0–300.
                var la = i % 2 == 0 ? lengths[random.Next(lengths.Length)] : random.Next(301);
                var lb = i % 3 == 0 ? lengths[random.Next(lengths.Length)] : random.Next(301);
                var a = RandomText(random, alphabet, la);
                var b = i % 4 == 0 ? Mutate(random, a, alphabet) : RandomText(random, alphabet, lb);
                Assert.True(Reference(a, b) == EditDistance.Levenshtein(a, b), $"'{a}' vs '{b}'");
                pairs++;
            }
        }
        Assert.Equal(600, pairs);
    }

    [Fact]
    public void Levenshtein_LongTextsWithLocalEdits_EqualsTheDynamicProgramme()
    {
        var random = new Random(7);
        for (var i = 0; i < 20; i++)
        {
            var a = RandomText(random, "abcde fgh", 500 + random.Next(500));
            var b = Mutate(random, a, "abcde fgh");
            Assert.Equal(Reference(a, b), EditDistance.Levenshtein(a, b));
        }
    }

    [Fact]
    public void Levenshtein_SurrogatePairs_CountsUtf16CodeUnits()
    {
        // One emoji is two UTF-16 code units: replacing it with a letter costs a substitution and a deletion.
        Assert.Equal(2, EditDistance.Levenshtein("a😀b", "axb"));
        Assert.Equal(1, EditDistance.Levenshtein("a😀b", "a😁b"));
    }

    [Fact]
    public void Levenshtein_ManyDistinctCharacters_MatchesTheReferenceOnTheSparseTables()
    {
        // 9,000 characters nearly all distinct (CJK, plus a few repeats): too many rows for the dense table, so each
        // block keeps only its own characters. Edited and scrambled versions both against Wagner–Fischer.
        var random = new Random(5);
        var chars = new char[9_000];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = i % 97 == 0 ? 'x' : (char)(0x4E00 + i);
        }
        var text = new string(chars);
        var alphabet = new string([.. Enumerable.Range(0, 20_000).Select(i => (char)(0x4E00 + i))]);
        var edited = Mutate(random, text, alphabet);
        var scrambled = new string([.. chars.OrderBy(_ => random.Next())]);

        Assert.Equal(Reference(text, edited), EditDistance.Levenshtein(text, edited));
        Assert.Equal(Reference(edited, text), EditDistance.Levenshtein(edited, text));
        Assert.Equal(Reference(text, scrambled), EditDistance.Levenshtein(text, scrambled));
    }

    [Fact]
    public void Work_IsTheShorterLengthsBlocksTimesTheLonger()
    {
        Assert.Equal(1024L * 65_536, EditDistance.Work(65_536, 65_536));
        Assert.Equal(2L * 1_000, EditDistance.Work(1_000, 65));
        Assert.Equal(0, EditDistance.Work(0, 500));
    }

    [Theory]
    [InlineData("", "", 0.0)]
    [InlineData("abc", "abc", 0.0)]
    [InlineData("abc", "", 1.0)]
    [InlineData("", "abc", 1.0)]
    [InlineData("abcd", "xyz", 1.0)]
    [InlineData("kitten", "sitting", 3.0 / 7)]
    [InlineData("abcd", "abce", 0.25)]
    public void Normalized_DividesByTheLongerLength(string a, string b, double expected)
    {
        Assert.Equal(expected, EditDistance.Normalized(a, b), 12);
        Assert.Equal(expected, EditDistance.Normalized(b, a), 12);
    }

    [Fact]
    public void Normalized_RandomPairs_StaysWithinZeroAndOne()
    {
        var random = new Random(11);
        for (var i = 0; i < 200; i++)
        {
            var a = RandomText(random, "abc", random.Next(100));
            var b = RandomText(random, "abc", random.Next(100));
            var d = EditDistance.Normalized(a, b);
            Assert.InRange(d, 0, 1);
            Assert.Equal(a == b, d == 0);
        }
    }

    private static string RandomText(Random random, string alphabet, int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = alphabet[random.Next(alphabet.Length)];
        }
        return new string(chars);
    }

    /// <summary>A few insertions, deletions and substitutions: texts that share long runs, as edits of an output do.</summary>
    private static string Mutate(Random random, string text, string alphabet)
    {
        var chars = new List<char>(text);
        var edits = random.Next(1, 12);
        for (var e = 0; e < edits; e++)
        {
            var at = random.Next(chars.Count + 1);
            switch (random.Next(3))
            {
                case 0:
                    chars.Insert(at, alphabet[random.Next(alphabet.Length)]);
                    break;
                case 1 when at < chars.Count:
                    chars.RemoveAt(at);
                    break;
                case 2 when at < chars.Count:
                    chars[at] = alphabet[random.Next(alphabet.Length)];
                    break;
            }
        }
        return new string([.. chars]);
    }

    /// <summary>Wagner–Fischer, two rows.</summary>
    private static int Reference(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}

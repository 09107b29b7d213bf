using BenchmarkDotNet.Attributes;
using Flywheel.Core;

namespace Flywheel.Benchmarks;

/// <summary>
/// <see cref="EditDistance.Normalized"/> on an output and a user's edit of it, as the engine measures each <c>edited</c>
/// signal: a summary (600 characters), a long answer (8,000) and texts at the default <c>maxChars</c> (65,536), each
/// edited in a few places (the common case) and rewritten throughout (the worst case for the prefix/suffix trim), and a
/// text of thousands of distinct characters (CJK) edited in a few places.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class EditDistanceBenchmarks
{
    private string _output = "";
    private string _edited = "";
    private string _rewritten = "";
    private string _cjk = "";
    private string _cjkEdited = "";

    [Params(600, 8_000, 65_536)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        string Text(int n)
        {
            var words = new[] { "the", "board", "approved", "budget", "hiring", "plan", "delayed", "until", "march", "and", "revenue", "grew" };
            var sb = new System.Text.StringBuilder(n + 16);
            while (sb.Length < n)
            {
                sb.Append(words[rng.Next(words.Length)]).Append(' ');
            }
            return sb.ToString(0, n);
        }
        _output = Text(Length);
        // A few local edits: ten words replaced across the text.
        var chars = _output.ToCharArray();
        for (var e = 0; e < 10; e++)
        {
            var at = rng.Next(chars.Length - 8);
            for (var k = 0; k < 6; k++)
            {
                chars[at + k] = (char)('a' + rng.Next(26));
            }
        }
        _edited = new string(chars);
        _rewritten = Text(Length);
        // Text of up to 20,000 distinct characters (CJK): past a few thousand distinct ones the match bits are kept per block.
        var cjk = new char[Length];
        for (var i = 0; i < cjk.Length; i++)
        {
            cjk[i] = (char)(0x4E00 + rng.Next(20_000));
        }
        _cjk = new string(cjk);
        for (var e = 0; e < 10; e++)
        {
            cjk[rng.Next(cjk.Length)] = (char)(0x4E00 + rng.Next(20_000));
        }
        _cjkEdited = new string(cjk);
    }

    /// <summary>Ten local edits.</summary>
    [Benchmark(Baseline = true)]
    public double Edited() => EditDistance.Normalized(_output, _edited);

    /// <summary>An unrelated text of the same length.</summary>
    [Benchmark]
    public double Rewritten() => EditDistance.Normalized(_output, _rewritten);

    /// <summary>Ten local edits of a text of many distinct characters.</summary>
    [Benchmark]
    public double ManyDistinctCharacters() => EditDistance.Normalized(_cjk, _cjkEdited);
}

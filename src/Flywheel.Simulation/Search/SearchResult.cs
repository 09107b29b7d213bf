using Flywheel.Core;

namespace Flywheel.Simulation.Search;

/// <summary>What one loop served over the run and what it measured.</summary>
public sealed record SearchLoopResult
{
    /// <summary>How the loop is built.</summary>
    public required SearchLoopSpec Spec { get; init; }

    /// <summary>The loop's config as declared.</summary>
    public required LoopConfig Loop { get; init; }

    /// <summary>The loop's store.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Per query, the expected clicks on relevant results of the ranking served (from the truth).</summary>
    public required double[] Served { get; init; }

    /// <summary>Per query, the documents served, top first.</summary>
    public required int[][] Rankings { get; init; }

    /// <summary>Clicks the users made.</summary>
    public long Clicks { get; init; }

    /// <summary>Of them, clicks on relevant results.</summary>
    public long RelevantClicks { get; init; }

    /// <summary>Clicks that bounced.</summary>
    public long Bounces { get; init; }

    /// <summary>Decisions whose ranking differed from the model's best.</summary>
    public long Explored { get; init; }

    /// <summary>The loop's examination estimates at the end of the run (<c>GET /v1/loops/search/position-bias</c>).</summary>
    public required PositionBiasReport Examination { get; init; }

    /// <summary>The model version serving at the end.</summary>
    public int ModelVersion { get; init; }
}

/// <summary>One row of the block table: a span of queries and each loop's share of the oracle's expected relevant clicks.</summary>
/// <param name="First">The first query, from 1.</param>
/// <param name="Last">The last query.</param>
/// <param name="Oracle">The oracle ranking's expected relevant clicks over the span.</param>
/// <param name="Uniform">A uniformly random ranking's, over the span.</param>
/// <param name="Served">Each loop's, in the order of <see cref="SearchResult.Loops"/>.</param>
public sealed record SearchBlock(int First, int Last, double Oracle, double Uniform, IReadOnlyList<double> Served)
{
    /// <summary>Loop <paramref name="loop"/>'s ratio: its expected relevant clicks over the oracle's.</summary>
    public double Ratio(int loop) => Served[loop] / Oracle;

    /// <summary>A uniformly random ranking's ratio.</summary>
    public double UniformRatio => Uniform / Oracle;
}

/// <summary>
/// Two loops' ratios over the same queries, and their difference with a 95% interval. Both loops answered the same
/// queries, so the difference is Σ(a_i − b_i) / Σ o_i over queries i with the oracle's o_i fixed by the truth, and its
/// standard error comes from the spread of the paired per-query differences a_i − b_i (the interval holds the models'
/// serving over those queries fixed; it does not cover what another seed would have learned).
/// </summary>
/// <param name="First">The first query compared, from 1.</param>
/// <param name="Last">The last query compared.</param>
/// <param name="A">The first loop's ratio.</param>
/// <param name="B">The second loop's ratio.</param>
/// <param name="Difference">A − B.</param>
/// <param name="StandardError">The difference's standard error.</param>
public sealed record SearchComparison(int First, int Last, double A, double B, double Difference, double StandardError)
{
    /// <summary>The 95% interval's lower end.</summary>
    public double Lower => Difference - Statistics.Z95 * StandardError;

    /// <summary>The 95% interval's upper end.</summary>
    public double Upper => Difference + Statistics.Z95 * StandardError;
}

/// <summary>A run of the search scenario: the world, each loop's serving and measurements, and the figures drawn from them.</summary>
public sealed record SearchResult
{
    /// <summary>The run's settings.</summary>
    public required SearchOptions Options { get; init; }

    /// <summary>The world the loops ran in.</summary>
    public required SearchWorld World { get; init; }

    /// <summary>Per query, the oracle ranking's expected relevant clicks.</summary>
    public required double[] Oracle { get; init; }

    /// <summary>Per query, a uniformly random ranking's expected relevant clicks.</summary>
    public required double[] Uniform { get; init; }

    /// <summary>The loops, A first.</summary>
    public required IReadOnlyList<SearchLoopResult> Loops { get; init; }

    /// <summary>The loop with key <paramref name="key"/>.</summary>
    public SearchLoopResult this[string key] => Loops.Single(l => l.Spec.Key == key);

    /// <summary>The world's examination probability of each slot, top first.</summary>
    public IReadOnlyList<double> TrueExamination => [.. Enumerable.Range(1, Options.Slots).Select(World.Examination)];

    /// <summary>The block table: consecutive spans of <see cref="SearchOptions.BlockSize"/> queries (the last may be shorter).</summary>
    public IReadOnlyList<SearchBlock> Blocks()
    {
        var blocks = new List<SearchBlock>();
        for (var first = 0; first < Oracle.Length; first += Options.BlockSize)
        {
            var last = Math.Min(Oracle.Length, first + Options.BlockSize);
            blocks.Add(Block(first, last));
        }
        return blocks;
    }

    /// <summary>The queries [<paramref name="from"/>, <paramref name="to"/>) (from 0) as one block.</summary>
    public SearchBlock Block(int from, int to)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(to, Oracle.Length);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(to, from);
        return new SearchBlock(from + 1, to, Sum(Oracle, from, to), Sum(Uniform, from, to), [.. Loops.Select(l => Sum(l.Served, from, to))]);
    }

    /// <summary>The span the closing comparison covers: the last <see cref="SearchOptions.FinalQueries"/> queries, or all of a shorter run.</summary>
    public (int From, int To) FinalSpan => (Math.Max(0, Oracle.Length - Options.FinalQueries), Oracle.Length);

    /// <summary>Loops <paramref name="a"/> and <paramref name="b"/> over the queries [<paramref name="from"/>, <paramref name="to"/>), paired query by query.</summary>
    public SearchComparison Compare(string a, string b, int from, int to)
    {
        var x = this[a].Served;
        var y = this[b].Served;
        var oracle = Sum(Oracle, from, to);
        var n = to - from;
        double mean = 0, squares = 0;
        for (var i = from; i < to; i++)
        {
            // Welford's update over the paired differences.
            var d = x[i] - y[i];
            var delta = d - mean;
            mean += delta / (i - from + 1);
            squares += delta * (d - mean);
        }
        var variance = n > 1 ? squares / (n - 1) : double.PositiveInfinity;
        return new SearchComparison(from + 1, to, Sum(x, from, to) / oracle, Sum(y, from, to) / oracle, mean * n / oracle, Math.Sqrt(variance * n) / oracle);
    }

    /// <summary>A (position bias estimated) against B (position bias ignored) over <see cref="FinalSpan"/>.</summary>
    public SearchComparison Final()
    {
        var (from, to) = FinalSpan;
        return Compare(Loops[0].Spec.Key, Loops[1].Spec.Key, from, to);
    }

    private static double Sum(double[] values, int from, int to)
    {
        var sum = 0.0;
        for (var i = from; i < to; i++)
        {
            sum += values[i];
        }
        return sum;
    }
}

/// <summary>Constants the figures share.</summary>
internal static class Statistics
{
    /// <summary>The standard normal's 97.5% quantile.</summary>
    public const double Z95 = 1.959963984540054;
}

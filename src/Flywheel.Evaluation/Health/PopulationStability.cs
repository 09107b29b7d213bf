namespace Flywheel.Evaluation.Health;

/// <summary>The conventional reading of a population stability index.</summary>
public enum PopulationShift
{
    /// <summary>PSI &lt; 0.1: no significant change.</summary>
    None,

    /// <summary>0.1 ≤ PSI ≤ 0.25: some change, worth watching.</summary>
    Some,

    /// <summary>PSI &gt; 0.25: a significant shift.</summary>
    Significant,
}

/// <summary>
/// The population stability index (PSI), a symmetric measure of how far a distribution has moved from a baseline:
/// PSI = Σ_b (A_b − E_b)·ln(A_b/E_b) over bins b, where E_b and A_b are the shares of the expected (baseline) and
/// actual samples in bin b. It is the sum of the two Kullback–Leibler divergences KL(A‖E) + KL(E‖A), hence ≥ 0 and 0
/// only when the shares agree. Numeric features are binned on quantiles of the expected sample (10 bins by default),
/// so each baseline bin holds about the same share; categorical features use one bin per category. The usual reading
/// (credit-scoring practice, e.g. Siddiqi, "Credit Risk Scorecards"): below 0.1 no significant change, 0.1 to 0.25
/// some change, above 0.25 a significant shift (<see cref="Read"/>).
/// <para>
/// An empty bin makes ln(A/E) undefined. Here every share is floored at ε (<see cref="DefaultEpsilon"/> = 1e-4, i.e.
/// 0.01%) before the sum: a bin empty on one side and holding a share s on the other then adds about s·ln(s/ε), so
/// mass where the baseline had none still counts as a shift, and a bin empty on both sides adds 0.
/// </para>
/// Thread-safe (pure functions).
/// </summary>
public static class PopulationStability
{
    /// <summary>The default number of quantile bins for numeric samples.</summary>
    public const int DefaultBins = 10;

    /// <summary>The default floor of a bin's share, so that empty bins keep ln(A/E) finite.</summary>
    public const double DefaultEpsilon = 1e-4;

    /// <summary>
    /// PSI of <paramref name="actual"/> against <paramref name="expected"/> on <paramref name="bins"/> quantile bins of
    /// the expected sample (<see cref="QuantileEdges"/>). Allocates one sorted copy of the expected sample.
    /// </summary>
    /// <param name="expected">The baseline sample (at least one value, no NaN).</param>
    /// <param name="actual">The sample to compare (at least one value, no NaN).</param>
    /// <param name="bins">Quantile bins, ≥ 2; fewer remain when the baseline has ties at the edges. <value>Default 10.</value></param>
    /// <param name="epsilon">The floor of a bin's share, in (0, 1). <value>Default 1e-4.</value></param>
    public static double Compute(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, int bins = DefaultBins, double epsilon = DefaultEpsilon)
    {
        var edges = QuantileEdges(expected, bins);
        return FromEdges(edges, expected, actual, epsilon);
    }

    /// <summary>
    /// The inner edges of <paramref name="bins"/> quantile bins of <paramref name="sample"/>: with the sample sorted
    /// as x₍₀₎ ≤ … ≤ x₍ₘ₋₁₎, edge k (k = 1 … bins − 1) is x₍⌊k·m/bins⌋₎, and bin i holds the values v with
    /// edge_i ≤ v &lt; edge_{i+1} (edge_0 = −∞, edge_bins = +∞). Without ties each bin then holds ⌊(i+1)m/bins⌋ − ⌊i·m/bins⌋
    /// baseline values; equal edges (ties) are merged, so fewer, wider bins remain. Keep the edges to bin later samples
    /// against the same baseline (<see cref="CountInto"/>).
    /// </summary>
    public static double[] QuantileEdges(ReadOnlySpan<double> sample, int bins = DefaultBins)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 2);
        CheckSample(sample, nameof(sample));
        var sorted = sample.ToArray();
        Array.Sort(sorted);
        if (double.IsNaN(sorted[0]))
        {
            // NaN sorts first.
            throw new ArgumentException("must not contain NaN", nameof(sample));
        }
        var edges = new double[bins - 1];
        var count = 0;
        for (var k = 1; k < bins; k++)
        {
            var edge = sorted[(int)((long)k * sorted.Length / bins)];
            // The smallest value as an edge would leave bin 0 empty; a repeated edge, an empty bin between the two.
            if (edge > sorted[0] && (count == 0 || edge > edges[count - 1]))
            {
                edges[count++] = edge;
            }
        }
        return count == edges.Length ? edges : edges[..count];
    }

    /// <summary>
    /// Adds the number of values of <paramref name="sample"/> in each bin of <paramref name="edges"/> (ascending inner
    /// edges, as from <see cref="QuantileEdges"/>) to <paramref name="counts"/>, which has edges.Length + 1 entries.
    /// Does not allocate: a streaming caller keeps the counts and adds batches as they come.
    /// </summary>
    public static void CountInto(ReadOnlySpan<double> edges, ReadOnlySpan<double> sample, Span<long> counts)
    {
        if (counts.Length != edges.Length + 1)
        {
            throw new ArgumentException($"must have edges.Length + 1 = {edges.Length + 1} entries", nameof(counts));
        }
        foreach (var value in sample)
        {
            if (double.IsNaN(value))
            {
                throw new ArgumentException("must not contain NaN", nameof(sample));
            }
            counts[BinOf(edges, value)]++;
        }
    }

    /// <summary>PSI of <paramref name="actual"/> against <paramref name="expected"/> on the given bin edges.</summary>
    public static double FromEdges(ReadOnlySpan<double> edges, ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double epsilon = DefaultEpsilon)
    {
        CheckSample(expected, nameof(expected));
        CheckSample(actual, nameof(actual));
        // Bins are few (10 by default): counts fit on the stack.
        Span<long> expectedCounts = edges.Length < 256 ? stackalloc long[edges.Length + 1] : new long[edges.Length + 1];
        Span<long> actualCounts = edges.Length < 256 ? stackalloc long[edges.Length + 1] : new long[edges.Length + 1];
        expectedCounts.Clear();
        actualCounts.Clear();
        CountInto(edges, expected, expectedCounts);
        CountInto(edges, actual, actualCounts);
        return FromCounts(expectedCounts, actualCounts, epsilon);
    }

    /// <summary>
    /// PSI from the counts of the expected and actual samples in the same bins: shares E_b = e_b/Σe and A_b = a_b/Σa,
    /// each floored at <paramref name="epsilon"/>, then Σ (A_b − E_b)·ln(A_b/E_b).
    /// </summary>
    public static double FromCounts(ReadOnlySpan<long> expectedCounts, ReadOnlySpan<long> actualCounts, double epsilon = DefaultEpsilon)
    {
        if (expectedCounts.Length != actualCounts.Length)
        {
            throw new ArgumentException("must have as many bins as expectedCounts", nameof(actualCounts));
        }
        CheckEpsilon(epsilon);
        var expectedTotal = Total(expectedCounts, nameof(expectedCounts));
        var actualTotal = Total(actualCounts, nameof(actualCounts));
        var psi = 0.0;
        for (var b = 0; b < expectedCounts.Length; b++)
        {
            psi += Term((double)expectedCounts[b] / expectedTotal, (double)actualCounts[b] / actualTotal, epsilon);
        }
        return psi;
    }

    /// <summary>
    /// PSI of a categorical feature from the count of each category in the expected and actual samples; a category
    /// missing from one map counts 0 there (and is floored at <paramref name="epsilon"/>).
    /// </summary>
    public static double FromCategories<TKey>(IReadOnlyDictionary<TKey, long> expected, IReadOnlyDictionary<TKey, long> actual, double epsilon = DefaultEpsilon)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        CheckEpsilon(epsilon);
        var expectedTotal = Total(expected.Values, nameof(expected));
        var actualTotal = Total(actual.Values, nameof(actual));
        var psi = 0.0;
        foreach (var (key, count) in expected)
        {
            var other = actual.TryGetValue(key, out var a) ? a : 0;
            psi += Term((double)count / expectedTotal, (double)other / actualTotal, epsilon);
        }
        foreach (var (key, count) in actual)
        {
            if (!expected.ContainsKey(key))
            {
                psi += Term(0, (double)count / actualTotal, epsilon);
            }
        }
        return psi;
    }

    /// <summary>The conventional reading: &lt; 0.1 <see cref="PopulationShift.None"/>, 0.1–0.25 <see cref="PopulationShift.Some"/>, &gt; 0.25 <see cref="PopulationShift.Significant"/>.</summary>
    public static PopulationShift Read(double psi)
    {
        if (double.IsNaN(psi) || psi < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(psi), psi, "must be a number ≥ 0");
        }
        return psi < 0.1 ? PopulationShift.None : psi <= 0.25 ? PopulationShift.Some : PopulationShift.Significant;
    }

    private static double Term(double expectedShare, double actualShare, double epsilon)
    {
        var e = Math.Max(expectedShare, epsilon);
        var a = Math.Max(actualShare, epsilon);
        return (a - e) * Math.Log(a / e);
    }

    /// <summary>The number of edges ≤ <paramref name="value"/>: the index of its bin.</summary>
    private static int BinOf(ReadOnlySpan<double> edges, double value)
    {
        int lo = 0, hi = edges.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (edges[mid] <= value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }

    private static long Total(ReadOnlySpan<long> counts, string parameter)
    {
        long total = 0;
        foreach (var c in counts)
        {
            total = Add(total, c, parameter);
        }
        return Positive(total, parameter);
    }

    private static long Total(IEnumerable<long> counts, string parameter)
    {
        long total = 0;
        foreach (var c in counts)
        {
            total = Add(total, c, parameter);
        }
        return Positive(total, parameter);
    }

    private static long Add(long total, long count, string parameter)
        => count >= 0 ? total + count : throw new ArgumentException("counts must be ≥ 0", parameter);

    private static long Positive(long total, string parameter)
        => total > 0 ? total : throw new ArgumentException("counts must not all be 0", parameter);

    private static void CheckSample(ReadOnlySpan<double> sample, string parameter)
    {
        if (sample.IsEmpty)
        {
            throw new ArgumentException("must hold at least one value", parameter);
        }
    }

    private static void CheckEpsilon(double epsilon)
    {
        if (!(epsilon > 0 && epsilon < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "must lie strictly between 0 and 1");
        }
    }
}

using Flywheel.Core;

namespace Flywheel.Simulation.Summarise;

/// <summary>One output an arm generated and what its user did with it.</summary>
/// <param name="Request">The request, from 0.</param>
/// <param name="Attempt">0 for the first output of the request, 1 and up for regenerations.</param>
/// <param name="Day">The day, from 1.</param>
/// <param name="Variant">The variant served, an index into <see cref="SummariseWorld.Variants"/>.</param>
/// <param name="Explored">Whether the decision explored (served other than the model's best).</param>
/// <param name="Outcome">What the user did.</param>
/// <param name="Distance">The normalised edit distance between the output and the user's own text.</param>
public sealed record SummaryGeneration(int Request, int Attempt, int Day, int Variant, bool Explored, SummaryOutcome Outcome, double Distance)
{
    /// <summary>The distance the figures count: 0 kept or copied, the distance edited, 1 regenerated (<see cref="SummaryReaction.Counted"/>).</summary>
    public double Counted => new SummaryReaction(Outcome, Distance, null).Counted;

    /// <summary>Whether the output was kept or copied without edits.</summary>
    public bool KeptAsIs => Outcome is SummaryOutcome.Kept or SummaryOutcome.Copied;
}

/// <summary>What one arm served over the run.</summary>
public sealed record SummariseArmResult
{
    /// <summary>The arm.</summary>
    public required SummarisePolicy Policy { get; init; }

    /// <summary>The loop's config as declared.</summary>
    public required LoopConfig Loop { get; init; }

    /// <summary>The arm's store.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Every generation, in the order served.</summary>
    public required IReadOnlyList<SummaryGeneration> Generations { get; init; }

    /// <summary>Decisions that explored.</summary>
    public long Explored { get; init; }

    /// <summary>The model version serving at the end.</summary>
    public int ModelVersion { get; init; }

    /// <summary>Generations of each outcome, in the order of <see cref="SummaryOutcome"/>.</summary>
    public IReadOnlyList<int> Outcomes => [.. Enum.GetValues<SummaryOutcome>().Select(o => Generations.Count(g => g.Outcome == o))];

    /// <summary>The share of generations that served each variant, in the order of <see cref="SummariseWorld.Variants"/>.</summary>
    public IReadOnlyList<double> VariantShares(int from = 0) =>
        [.. Enumerable.Range(0, SummariseWorld.Variants.Count).Select(v => (double)Generations.Skip(from).Count(g => g.Variant == v) / Math.Max(1, Generations.Count - from))];
}

/// <summary>A mean with its standard error and 95% normal interval.</summary>
/// <param name="Value">The mean.</param>
/// <param name="StandardError">Its standard error.</param>
public sealed record SummaryMean(double Value, double StandardError)
{
    /// <summary>The 95% interval's lower end.</summary>
    public double Lower => Value - Search.Statistics.Z95 * StandardError;

    /// <summary>The 95% interval's upper end.</summary>
    public double Upper => Value + Search.Statistics.Z95 * StandardError;

    /// <summary>The mean of <paramref name="values"/> with the standard error of their spread (infinite for fewer than two).</summary>
    public static SummaryMean Of(IReadOnlyCollection<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var n = values.Count;
        if (n == 0)
        {
            return new SummaryMean(double.NaN, double.PositiveInfinity);
        }
        var mean = values.Average();
        var variance = n > 1 ? values.Sum(v => (v - mean) * (v - mean)) / (n - 1) : double.PositiveInfinity;
        return new SummaryMean(mean, Math.Sqrt(variance / n));
    }

    /// <summary>This mean minus <paramref name="other"/>, an independent one: the Welch (unpooled) standard error.</summary>
    public SummaryMean Minus(SummaryMean other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new SummaryMean(Value - other.Value, Math.Sqrt(StandardError * StandardError + other.StandardError * other.StandardError));
    }
}

/// <summary>An arm's figures over a span of its generations.</summary>
/// <param name="Generations">Generations in the span.</param>
/// <param name="Distance">Mean counted edit distance (<see cref="SummaryGeneration.Counted"/>).</param>
/// <param name="KeptShare">Share kept or copied without edits.</param>
/// <param name="RegeneratedShare">Share regenerated.</param>
public sealed record SummaryFigures(int Generations, SummaryMean Distance, SummaryMean KeptShare, double RegeneratedShare)
{
    /// <summary>The figures of <paramref name="generations"/>.</summary>
    public static SummaryFigures Of(IReadOnlyCollection<SummaryGeneration> generations)
    {
        ArgumentNullException.ThrowIfNull(generations);
        return new SummaryFigures(
            generations.Count,
            SummaryMean.Of([.. generations.Select(g => g.Counted)]),
            SummaryMean.Of([.. generations.Select(g => g.KeptAsIs ? 1.0 : 0.0)]),
            generations.Count == 0 ? double.NaN : (double)generations.Count(g => g.Outcome == SummaryOutcome.Regenerated) / generations.Count);
    }
}

/// <summary>One row of the learning curve: a span of days, each arm's figures and what the truth allowed.</summary>
/// <param name="FirstDay">The first day, from 1.</param>
/// <param name="LastDay">The last day.</param>
/// <param name="Requests">Requests in the span.</param>
/// <param name="Oracle">Mean over the span's requests of the smallest distance any variant would have left.</param>
/// <param name="Uniform">Mean over the span's requests of the distance a uniformly drawn variant would leave.</param>
/// <param name="BestSingle">
/// The smallest mean distance one variant served to every request of the span would have left: what the best prompt an
/// A/B test could pick, the same for everyone, would do.
/// </param>
/// <param name="Arms">Each arm's figures, in the order of <see cref="SummariseResult.Arms"/>.</param>
/// <param name="Served">
/// Each arm's mean over the span's requests of the distance its first output left (before any keep, edit or regeneration):
/// the figure <paramref name="Oracle"/> and <paramref name="Uniform"/> bound.
/// </param>
public sealed record SummaryBlock(int FirstDay, int LastDay, int Requests, double Oracle, double Uniform, double BestSingle, IReadOnlyList<SummaryFigures> Arms, IReadOnlyList<double> Served);

/// <summary>The loop against the baseline over each arm's last generations: both arms' figures and the differences.</summary>
/// <param name="Loop">The loop's figures.</param>
/// <param name="Baseline">The baseline's figures.</param>
/// <param name="Distance">Loop − baseline mean counted distance, with the Welch standard error.</param>
/// <param name="KeptShare">Loop − baseline share kept without edits, with the Welch standard error.</param>
public sealed record SummaryComparison(SummaryFigures Loop, SummaryFigures Baseline, SummaryMean Distance, SummaryMean KeptShare);

/// <summary>A run of the summarise scenario: the world, each arm's generations, and the figures drawn from them.</summary>
public sealed record SummariseResult
{
    /// <summary>The run's settings.</summary>
    public required SummariseOptions Options { get; init; }

    /// <summary>The world the arms ran in.</summary>
    public required SummariseWorld World { get; init; }

    /// <summary>The arms: the loop, then the baseline.</summary>
    public required IReadOnlyList<SummariseArmResult> Arms { get; init; }

    /// <summary>Per request, the distance each variant's output would have left (<see cref="SummariseSimulation.Truth"/>).</summary>
    public required double[][] Truth { get; init; }

    /// <summary>The arm of <paramref name="policy"/>.</summary>
    public SummariseArmResult this[SummarisePolicy policy] => Arms.Single(a => a.Policy == policy);

    /// <summary>The last <see cref="SummariseOptions.FinalGenerations"/> generations of <paramref name="arm"/> (all of a shorter run).</summary>
    public IReadOnlyList<SummaryGeneration> Final(SummariseArmResult arm)
    {
        ArgumentNullException.ThrowIfNull(arm);
        return [.. arm.Generations.Skip(Math.Max(0, arm.Generations.Count - Options.FinalGenerations))];
    }

    /// <summary>
    /// The closing comparison: the loop's last generations against the baseline's. The two sets are different generations
    /// (regenerations make the arms' counts differ), so the differences carry Welch standard errors of independent means.
    /// </summary>
    public SummaryComparison Compare()
    {
        var loop = SummaryFigures.Of(Final(this[SummarisePolicy.Loop]));
        var baseline = SummaryFigures.Of(Final(this[SummarisePolicy.Baseline]));
        return new SummaryComparison(loop, baseline, loop.Distance.Minus(baseline.Distance), loop.KeptShare.Minus(baseline.KeptShare));
    }

    /// <summary>The learning curve: consecutive spans of <see cref="SummariseOptions.BlockDays"/> days (the last may be shorter).</summary>
    public IReadOnlyList<SummaryBlock> Blocks()
    {
        var blocks = new List<SummaryBlock>();
        for (var first = 1; first <= Options.Days; first += Options.BlockDays)
        {
            var last = Math.Min(Options.Days, first + Options.BlockDays - 1);
            var requests = World.Requests.Where(r => r.Day >= first && r.Day <= last).Select(r => Truth[r.Index]).ToArray();
            blocks.Add(new SummaryBlock(
                first,
                last,
                requests.Length,
                requests.Length == 0 ? double.NaN : requests.Average(t => t.Min()),
                requests.Length == 0 ? double.NaN : requests.Average(t => t.Average()),
                requests.Length == 0 ? double.NaN : Enumerable.Range(0, SummariseWorld.Variants.Count).Min(v => requests.Average(t => t[v])),
                [.. Arms.Select(a => SummaryFigures.Of([.. a.Generations.Where(g => g.Day >= first && g.Day <= last)]))],
                [.. Arms.Select(a => a.Generations.Where(g => g.Attempt == 0 && g.Day >= first && g.Day <= last).Select(g => g.Distance).DefaultIfEmpty(double.NaN).Average())]));
        }
        return blocks;
    }
}

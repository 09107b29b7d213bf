using Flywheel.Core;

namespace Flywheel.Evaluation.Health;

/// <summary>
/// The generation figures of the health report (<see cref="GenerationHealth"/>): one pass over a generation loop's
/// judged outputs, then means and shares overall, by stretch of the log, and per model version served.
/// </summary>
public sealed class GenerationFigures
{
    /// <summary>The most stretches the log is cut into.</summary>
    public const int MaxPeriods = 8;

    /// <summary>The fewest judged outputs a stretch holds: fewer make too wide an interval to read a trend from.</summary>
    public const int MinPeriodSize = 30;

    internal const string Definition = "Judged outputs (kept or copied, edited, or regenerated): mean normalised edit distance (kept = 0, "
        + "edited = the last edit's distance, regenerated and not kept = 1) and share kept without an edit, 95% normal intervals; "
        + "per model version with the change from the version before (Welch).";

    private readonly List<Judged> _judged = [];
    private long _outputs;

    private readonly record struct Judged(DateTimeOffset At, int Version, double Distance, bool KeptUnedited, bool Regenerated);

    /// <summary>Adds one generation, in log order.</summary>
    public void Add(GenerationRecord generation)
    {
        ArgumentNullException.ThrowIfNull(generation);
        if (generation.Output is not null)
        {
            _outputs++;
        }
        if (TrainingExamples.Verdict(generation) is not var (evidence, _))
        {
            return;
        }
        var distance = evidence switch
        {
            TrainingEvidence.Kept => 0.0,
            TrainingEvidence.Regenerated => 1.0,
            _ => Math.Clamp(LastEdit(generation), 0, 1),
        };
        _judged.Add(new Judged(generation.At, generation.ModelVersion, distance, evidence == TrainingEvidence.Kept, evidence == TrainingEvidence.Regenerated));
    }

    private static double LastEdit(GenerationRecord generation)
    {
        var value = 0.0;
        foreach (var s in generation.Signals)
        {
            if (s.Type == GenerationConfig.EditedSignal && double.IsFinite(s.Value))
            {
                value = s.Value;
            }
        }
        return value;
    }

    /// <summary>The figures, with each version's turn read from <paramref name="turns"/>.</summary>
    public GenerationHealth Compute(IReadOnlyList<TurnRecord> turns)
    {
        ArgumentNullException.ThrowIfNull(turns);
        var all = _judged.ToArray();
        var periods = new List<GenerationPeriod>();
        var count = Math.Min(MaxPeriods, all.Length / MinPeriodSize);
        for (var p = 0; p < count; p++)
        {
            var slice = all.AsSpan((int)((long)all.Length * p / count), (int)((long)all.Length * (p + 1) / count - (long)all.Length * p / count));
            var (distance, kept) = Summarise(slice);
            periods.Add(new GenerationPeriod(Span(slice), distance.Estimate, kept.Estimate));
        }
        var deployedBy = new Dictionary<int, long>();
        foreach (var turn in turns)
        {
            if (turn.DeployedVersion is { } version)
            {
                deployedBy[version] = turn.Number;
            }
        }
        var byVersion = new List<GenerationTurn>();
        (Moments Distance, Moments Kept)? previous = null;
        foreach (var group in all.GroupBy(j => j.Version).OrderBy(g => g.Key))
        {
            var slice = group.ToArray().AsSpan();
            var (distance, kept) = Summarise(slice);
            byVersion.Add(new GenerationTurn(deployedBy.TryGetValue(group.Key, out var n) ? n : null, group.Key, Span(slice), distance.Estimate, kept.Estimate,
                previous is { } before ? distance.Minus(before.Distance) : null,
                previous is { } b ? kept.Minus(b.Kept) : null));
            previous = (distance, kept);
        }
        var (allDistance, allKept) = Summarise(all);
        var regenerated = new Moments();
        foreach (var j in all)
        {
            regenerated.Add(j.Regenerated ? 1 : 0);
        }
        return new GenerationHealth(Definition, _outputs, all.Length, allDistance.Estimate, allKept.Estimate, regenerated.Estimate, periods, byVersion);
    }

    private static (Moments Distance, Moments Kept) Summarise(ReadOnlySpan<Judged> judged)
    {
        var distance = new Moments();
        var kept = new Moments();
        foreach (var j in judged)
        {
            distance.Add(j.Distance);
            kept.Add(j.KeptUnedited ? 1 : 0);
        }
        return (distance, kept);
    }

    private static DataSpan Span(ReadOnlySpan<Judged> judged) => judged.IsEmpty ? new DataSpan(0, null, null) : new DataSpan(judged.Length, judged[0].At, judged[^1].At);

    /// <summary>Count, mean and sum of squared deviations (Welford), for a mean's interval and a difference of two.</summary>
    private sealed class Moments
    {
        private long _n;
        private double _mean;
        private double _m2;

        public void Add(double x)
        {
            _n++;
            var delta = x - _mean;
            _mean += delta / _n;
            _m2 += delta * (x - _mean);
        }

        public Estimate Estimate => _n == 0 ? new Estimate(double.NaN, double.NegativeInfinity, double.PositiveInfinity) : Estimate.Gaussian(_mean, _m2, _n);

        public Estimate? Minus(Moments control)
        {
            if (_n < 2 || control._n < 2)
            {
                return null;
            }
            var w = WelchInterval.Compute(_n, _mean, _m2 / (_n - 1), control._n, control._mean, control._m2 / (control._n - 1));
            return new Estimate(w.Difference, w.Lower, w.Upper);
        }
    }
}

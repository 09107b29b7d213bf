using Flywheel.Core;

namespace Flywheel.Simulation.Tutor;

/// <summary>Why a learner quit for good.</summary>
public enum TutorQuit
{
    /// <summary>They did not.</summary>
    None,

    /// <summary>A run of wrong answers.</summary>
    Failures,

    /// <summary>A run of far-too-easy right answers.</summary>
    Boredom,
}

/// <summary>One learner at the end of a run under one policy.</summary>
public sealed record TutorLearnerOutcome
{
    /// <summary>The learner's index, from 0.</summary>
    public required int Learner { get; init; }

    /// <summary>The user id the engine knows them by.</summary>
    public required string UserId { get; init; }

    /// <summary>When they practise.</summary>
    public required PracticeTime Time { get; init; }

    /// <summary>Their daily habit.</summary>
    public required double Habit { get; init; }

    /// <summary>True ability on day 1.</summary>
    public required double StartAbility { get; init; }

    /// <summary>True ability at the end.</summary>
    public required double EndAbility { get; init; }

    /// <summary>Ability gained over the run.</summary>
    public double Gain => EndAbility - StartAbility;

    /// <summary>Exercises answered.</summary>
    public required int Answers { get; init; }

    /// <summary>Of them, answered right.</summary>
    public required int Correct { get; init; }

    /// <summary>Exercises answered after the learner's warm-up (<see cref="TutorOptions.WarmUpAnswers"/>).</summary>
    public required int AnswersAfterWarmUp { get; init; }

    /// <summary>Of them, answered right.</summary>
    public required int CorrectAfterWarmUp { get; init; }

    /// <summary>Days with a session.</summary>
    public required int DaysPractised { get; init; }

    /// <summary>Whether and why they quit.</summary>
    public required TutorQuit Quit { get; init; }

    /// <summary>The day they quit, if they did.</summary>
    public int? QuitDay { get; init; }

    /// <summary>The ability loop's estimate at the end (<c>GET /v1/loops/tutor/learners/{userId}</c>); NaN under other policies or without answers.</summary>
    public required double Estimate { get; init; }

    /// <summary>The estimate's standard error; NaN when there is no estimate.</summary>
    public required double EstimateError { get; init; }
}

/// <summary>One day of a run under one policy.</summary>
public sealed record TutorDay
{
    /// <summary>The day, from 1.</summary>
    public required int Day { get; init; }

    /// <summary>Learners who had not quit at the start of the day.</summary>
    public required int Active { get; init; }

    /// <summary>Learners with a session that day.</summary>
    public required int Practised { get; init; }

    /// <summary>Exercises answered.</summary>
    public required long Answers { get; init; }

    /// <summary>Of them, answered right.</summary>
    public required long Correct { get; init; }

    /// <summary>Learners who quit that day.</summary>
    public required int Quits { get; init; }

    /// <summary>Learners who have quit by the end of the day.</summary>
    public required int QuitSoFar { get; init; }

    /// <summary>The mean ability gained since day 1, over every learner, at the end of the day.</summary>
    public required double MeanGain { get; init; }

    /// <summary>Reminder decisions by action, in the order of <see cref="TutorSimulation.ReminderActions"/>.</summary>
    public required IReadOnlyList<int> Reminders { get; init; }

    /// <summary>Of them, learners who came back that day (a <c>returned</c> signal), by action.</summary>
    public required IReadOnlyList<int> Returned { get; init; }

    /// <summary>Reminders sent at the learner's own practice time.</summary>
    public required int Matched { get; init; }

    /// <summary>Reminder decisions by the learner's practice time (morning, evening).</summary>
    public required IReadOnlyList<int> LapsedByTime { get; init; }

    /// <summary>
    /// By practice time (morning, evening), the sum over the day's reminder decisions of the probability the loop gave the
    /// reminder at the learner's own time: divided by <see cref="LapsedByTime"/>, the policy's mean rather than its draws'.
    /// </summary>
    public required IReadOnlyList<double> MatchedProbability { get; init; }
}

/// <summary>What the reminder loop serves, at the end of a run, to a lapsed learner of one practice time.</summary>
/// <param name="Time">The learner's practice time.</param>
/// <param name="Probabilities">The probability of each action, in the order of <see cref="TutorSimulation.ReminderActions"/>.</param>
public sealed record TutorReminderPolicy(PracticeTime Time, IReadOnlyList<double> Probabilities)
{
    /// <summary>The action served most often.</summary>
    public string Favoured => TutorSimulation.ReminderActions[Probabilities.Select((p, i) => (p, i)).MaxBy(x => x.p).i];

    /// <summary>The probability of the reminder at the learner's own practice time.</summary>
    public double Matched => Probabilities[Time == PracticeTime.Morning ? 1 : 2];
}

/// <summary>One policy's run.</summary>
public sealed record TutorArmResult
{
    /// <summary>The policy.</summary>
    public required TutorPolicy Policy { get; init; }

    /// <summary>The policy's store, or null when it needed no engine.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>The loops the policy's engine ran, as declared.</summary>
    public required IReadOnlyList<LoopConfig> Loops { get; init; }

    /// <summary>Every learner at the end, by index.</summary>
    public required IReadOnlyList<TutorLearnerOutcome> Learners { get; init; }

    /// <summary>Every day.</summary>
    public required IReadOnlyList<TutorDay> Days { get; init; }

    /// <summary>Decisions of the ability loop (0 under the baselines).</summary>
    public long Decisions { get; init; }

    /// <summary>Of them, decisions whose item was not the loop's best (exploration).</summary>
    public long Explored { get; init; }

    /// <summary>The reminder loop's policy at the end, by practice time (empty without reminders).</summary>
    public required IReadOnlyList<TutorReminderPolicy> ReminderPolicy { get; init; }
}

/// <summary>A figure and its 95% interval.</summary>
/// <param name="Value">The figure.</param>
/// <param name="Lower">The interval's lower end.</param>
/// <param name="Upper">The interval's upper end.</param>
public sealed record TutorInterval(double Value, double Lower, double Upper)
{
    /// <summary>Whether the interval lies wholly above 0.</summary>
    public bool AboveZero => Lower > 0;

    /// <summary>Whether the interval lies wholly below 0.</summary>
    public bool BelowZero => Upper < 0;
}

/// <summary>
/// One policy's figures over the run, each with a 95% percentile-bootstrap interval over learners (resampling learners
/// with replacement; <see cref="TutorOptions.Bootstrap"/> resamples). The interval holds this seed's world fixed; it does
/// not cover what another seed would give.
/// </summary>
public sealed record TutorSummary
{
    /// <summary>The policy.</summary>
    public required TutorPolicy Policy { get; init; }

    /// <summary>Learners.</summary>
    public required int Learners { get; init; }

    /// <summary>Mean exercises answered per learner.</summary>
    public required TutorInterval AnswersPerLearner { get; init; }

    /// <summary>The share of right answers among answers after each learner's warm-up (pooled over learners).</summary>
    public required TutorInterval SuccessAfterWarmUp { get; init; }

    /// <summary>Mean true ability gained per learner (quitters included, with what they gained before leaving).</summary>
    public required TutorInterval Gain { get; init; }

    /// <summary>The share of learners who quit for good.</summary>
    public required TutorInterval QuitShare { get; init; }

    /// <summary>
    /// Spearman's rank correlation of the loop's ability estimates with true ability at the end, over learners with at
    /// least <see cref="TutorOptions.SpearmanAnswers"/> answers; null under the baselines or with fewer than 3 such learners.
    /// </summary>
    public TutorInterval? Spearman { get; init; }

    /// <summary>Learners behind <see cref="Spearman"/>.</summary>
    public int SpearmanLearners { get; init; }

    /// <summary>
    /// The mean of estimate − true ability over the learners behind <see cref="Spearman"/>: how far the loop's scale sits
    /// from the world's, whose learners start centred on <see cref="TutorWorldSettings.AbilityMean"/>; NaN without them.
    /// </summary>
    public double EstimateBias { get; init; } = double.NaN;

    /// <summary>
    /// The share of the learners behind <see cref="Spearman"/> whose true ability lies inside the loop's 95% interval
    /// (estimate ± 1.96 standard errors) once the two scales share their centre: abilities and difficulties are known
    /// only relative to each other, so the loop's scale may sit anywhere (<see cref="EstimateBias"/>); NaN without them.
    /// </summary>
    public double IntervalCoverage { get; init; } = double.NaN;

    /// <summary>The share of the learners who quit because of failures.</summary>
    public required double QuitFailures { get; init; }

    /// <summary>The share who quit because of boredom.</summary>
    public required double QuitBoredom { get; init; }
}

/// <summary>
/// Policy A against policy B, paired by learner (the same people with the same dice): the mean of A − B per learner with
/// a 95% percentile-bootstrap interval over learners.
/// </summary>
/// <param name="A">The first policy.</param>
/// <param name="B">The second.</param>
/// <param name="Gain">Ability gained under A minus under B.</param>
/// <param name="QuitShare">Quit share under A minus under B.</param>
/// <param name="Answers">Answers per learner under A minus under B.</param>
public sealed record TutorComparison(TutorPolicy A, TutorPolicy B, TutorInterval Gain, TutorInterval QuitShare, TutorInterval Answers);

/// <summary>One policy over one block of days.</summary>
/// <param name="Policy">The policy.</param>
/// <param name="Answers">Exercises answered in the block.</param>
/// <param name="Correct">Of them, right.</param>
/// <param name="MeanGain">Mean ability gained since day 1, at the block's end.</param>
/// <param name="QuitSoFar">Learners who had quit by the block's end.</param>
/// <param name="Practised">Learner-days with a session in the block.</param>
/// <param name="Reminders">Reminder decisions in the block, by action.</param>
/// <param name="Returned">Of them, learners who came back the same day, by action.</param>
/// <param name="Matched">Reminders sent at the learner's own practice time.</param>
/// <param name="LapsedByTime">Reminder decisions by the learner's practice time (morning, evening).</param>
/// <param name="MatchedProbability">By practice time, the sum over the block's reminder decisions of the probability of the reminder at the learner's own time.</param>
public sealed record TutorBlockArm(TutorPolicy Policy, long Answers, long Correct, double MeanGain, int QuitSoFar, long Practised, IReadOnlyList<int> Reminders, IReadOnlyList<int> Returned, int Matched, IReadOnlyList<int> LapsedByTime, IReadOnlyList<double> MatchedProbability)
{
    /// <summary>The policy's mean probability of the reminder at the learner's own time over the block's decisions, NaN without decisions.</summary>
    public double MatchedPolicy => Sent == 0 ? double.NaN : MatchedProbability.Sum() / Sent;

    /// <summary>The same for learners who practise at <paramref name="time"/>.</summary>
    public double MatchedPolicyOf(PracticeTime time) => LapsedByTime[(int)time] == 0 ? double.NaN : MatchedProbability[(int)time] / LapsedByTime[(int)time];

    /// <summary>The share of right answers, NaN without answers.</summary>
    public double SuccessRate => Answers == 0 ? double.NaN : (double)Correct / Answers;

    /// <summary>Reminder decisions of the block.</summary>
    public int Sent => Reminders.Sum();

    /// <summary>The share of reminder decisions that sent a reminder at the learner's own time, NaN without decisions.</summary>
    public double MatchedShare => Sent == 0 ? double.NaN : (double)Matched / Sent;

    /// <summary>The share of reminded learners who came back the same day, NaN without decisions.</summary>
    public double ReturnRate => Sent == 0 ? double.NaN : (double)Returned.Sum() / Sent;
}

/// <summary>One row of the block table: a span of days and each policy's figures over it.</summary>
/// <param name="FirstDay">The first day, from 1.</param>
/// <param name="LastDay">The last day.</param>
/// <param name="Arms">Each policy's figures, in the order of <see cref="TutorResult.Arms"/>.</param>
public sealed record TutorBlock(int FirstDay, int LastDay, IReadOnlyList<TutorBlockArm> Arms);

/// <summary>A run of the tutor scenario: the world, each policy's run, and the figures drawn from them.</summary>
public sealed record TutorResult
{
    private readonly Dictionary<TutorPolicy, TutorSummary> _summaries = [];

    /// <summary>The run's settings.</summary>
    public required TutorOptions Options { get; init; }

    /// <summary>The world the policies ran in.</summary>
    public required TutorWorld World { get; init; }

    /// <summary>Each policy's run, in the order of <see cref="TutorOptions.Policies"/>.</summary>
    public required IReadOnlyList<TutorArmResult> Arms { get; init; }

    /// <summary>The run of <paramref name="policy"/>.</summary>
    public TutorArmResult this[TutorPolicy policy] => Arms.Single(a => a.Policy == policy);

    /// <summary>The figures of <paramref name="policy"/> with their intervals.</summary>
    public TutorSummary Summary(TutorPolicy policy)
    {
        lock (_summaries)
        {
            if (!_summaries.TryGetValue(policy, out var summary))
            {
                _summaries[policy] = summary = Summarise(this[policy]);
            }
            return summary;
        }
    }

    /// <summary>The loop against each baseline that ran (empty when the loop did not run).</summary>
    public IReadOnlyList<TutorComparison> Comparisons()
        => Arms.Any(a => a.Policy == TutorPolicy.Loop)
            ? [.. Arms.Where(a => a.Policy != TutorPolicy.Loop).Select(a => Compare(TutorPolicy.Loop, a.Policy))]
            : [];

    /// <summary>Policy <paramref name="a"/> against <paramref name="b"/>, paired by learner.</summary>
    public TutorComparison Compare(TutorPolicy a, TutorPolicy b)
    {
        var x = this[a].Learners;
        var y = this[b].Learners;
        var name = TutorSimulation.PolicyName(a) + "-" + TutorSimulation.PolicyName(b);
        return new TutorComparison(
            a,
            b,
            TutorStatistics.Mean([.. x.Zip(y, (p, q) => p.Gain - q.Gain)], Random("gain-" + name)),
            TutorStatistics.Mean([.. x.Zip(y, (p, q) => Quit(p) - Quit(q))], Random("quit-" + name)),
            TutorStatistics.Mean([.. x.Zip(y, (p, q) => (double)(p.Answers - q.Answers))], Random("answers-" + name)));
    }

    /// <summary>The block table: consecutive spans of <see cref="TutorOptions.BlockDays"/> days (the last may be shorter).</summary>
    public IReadOnlyList<TutorBlock> Blocks()
    {
        var blocks = new List<TutorBlock>();
        for (var first = 1; first <= Options.Days; first += Options.BlockDays)
        {
            var last = Math.Min(Options.Days, first + Options.BlockDays - 1);
            blocks.Add(new TutorBlock(first, last, [.. Arms.Select(a => BlockOf(a, first, last))]));
        }
        return blocks;
    }

    private static TutorBlockArm BlockOf(TutorArmResult arm, int first, int last)
    {
        var days = arm.Days.Where(d => d.Day >= first && d.Day <= last).ToArray();
        var actions = TutorSimulation.ReminderActions.Count;
        var sent = new int[actions];
        var returned = new int[actions];
        foreach (var d in days)
        {
            for (var i = 0; i < actions; i++)
            {
                sent[i] += d.Reminders[i];
                returned[i] += d.Returned[i];
            }
        }
        return new TutorBlockArm(arm.Policy, days.Sum(d => d.Answers), days.Sum(d => d.Correct), days[^1].MeanGain, days[^1].QuitSoFar, days.Sum(d => (long)d.Practised), sent, returned, days.Sum(d => d.Matched),
            [days.Sum(d => d.LapsedByTime[0]), days.Sum(d => d.LapsedByTime[1])], [days.Sum(d => d.MatchedProbability[0]), days.Sum(d => d.MatchedProbability[1])]);
    }

    private TutorSummary Summarise(TutorArmResult arm)
    {
        var learners = arm.Learners;
        var key = TutorSimulation.PolicyName(arm.Policy);
        var ranked = learners.Where(l => l.Answers >= Options.SpearmanAnswers && double.IsFinite(l.Estimate)).ToArray();
        return new TutorSummary
        {
            Policy = arm.Policy,
            Learners = learners.Count,
            AnswersPerLearner = TutorStatistics.Mean([.. learners.Select(l => (double)l.Answers)], Random("answers-" + key)),
            SuccessAfterWarmUp = TutorStatistics.Ratio([.. learners.Select(l => (double)l.CorrectAfterWarmUp)], [.. learners.Select(l => (double)l.AnswersAfterWarmUp)], Random("success-" + key)),
            Gain = TutorStatistics.Mean([.. learners.Select(l => l.Gain)], Random("gain-" + key)),
            QuitShare = TutorStatistics.Mean([.. learners.Select(Quit)], Random("quit-" + key)),
            Spearman = ranked.Length >= 3 ? TutorStatistics.Spearman([.. ranked.Select(l => l.Estimate)], [.. ranked.Select(l => l.EndAbility)], Random("spearman-" + key)) : null,
            SpearmanLearners = ranked.Length,
            EstimateBias = ranked.Length == 0 ? double.NaN : ranked.Average(l => l.Estimate - l.EndAbility),
            IntervalCoverage = ranked.Length == 0 ? double.NaN : Coverage(ranked),
            QuitFailures = learners.Count(l => l.Quit == TutorQuit.Failures) / (double)learners.Count,
            QuitBoredom = learners.Count(l => l.Quit == TutorQuit.Boredom) / (double)learners.Count,
        };
    }

    private static double Coverage(TutorLearnerOutcome[] ranked)
    {
        var offset = ranked.Average(l => l.Estimate - l.EndAbility);
        return ranked.Count(l => Math.Abs(l.Estimate - offset - l.EndAbility) <= Search.Statistics.Z95 * l.EstimateError) / (double)ranked.Length;
    }

    private static double Quit(TutorLearnerOutcome learner) => learner.Quit == TutorQuit.None ? 0 : 1;

    /// <summary>Each figure's own resampling stream, so that adding a figure leaves the others' intervals unchanged.</summary>
    private Resampler Random(string figure) => new(SimRandom.Fork(Options.Seed, "tutor-bootstrap-" + figure), Options.Bootstrap);
}

/// <summary>A seeded resampling stream and the number of resamples.</summary>
/// <param name="Random">The stream.</param>
/// <param name="Resamples">Resamples.</param>
internal sealed record Resampler(SimRandom Random, int Resamples);

/// <summary>Percentile-bootstrap intervals over learners, and Spearman's rank correlation.</summary>
internal static class TutorStatistics
{
    /// <summary>The mean of <paramref name="values"/> with its 95% percentile-bootstrap interval.</summary>
    public static TutorInterval Mean(double[] values, Resampler bootstrap)
        => Ratio(values, [.. values.Select(_ => 1.0)], bootstrap);

    /// <summary>Σ numerators / Σ denominators with its 95% percentile-bootstrap interval, resampling the pairs.</summary>
    public static TutorInterval Ratio(double[] numerators, double[] denominators, Resampler bootstrap)
    {
        var n = numerators.Length;
        var value = Safe(numerators.Sum(), denominators.Sum());
        if (n == 0)
        {
            return new TutorInterval(double.NaN, double.NaN, double.NaN);
        }
        var draws = new double[bootstrap.Resamples];
        for (var b = 0; b < draws.Length; b++)
        {
            double top = 0, bottom = 0;
            for (var i = 0; i < n; i++)
            {
                var j = bootstrap.Random.Next(n);
                top += numerators[j];
                bottom += denominators[j];
            }
            draws[b] = Safe(top, bottom);
        }
        return Interval(value, draws);
    }

    /// <summary>Spearman's ρ of <paramref name="x"/> and <paramref name="y"/> with its 95% percentile-bootstrap interval.</summary>
    public static TutorInterval Spearman(double[] x, double[] y, Resampler bootstrap)
    {
        var n = x.Length;
        var draws = new double[bootstrap.Resamples];
        var (bx, by) = (new double[n], new double[n]);
        for (var b = 0; b < draws.Length; b++)
        {
            for (var i = 0; i < n; i++)
            {
                var j = bootstrap.Random.Next(n);
                (bx[i], by[i]) = (x[j], y[j]);
            }
            draws[b] = Spearman(bx, by);
        }
        return Interval(Spearman(x, y), draws);
    }

    /// <summary>Spearman's ρ: Pearson's correlation of the ranks, ties sharing their mean rank; NaN when either side is constant.</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var (rx, ry) = (Ranks(x), Ranks(y));
        var (mx, my) = (rx.Average(), ry.Average());
        double sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < rx.Length; i++)
        {
            sxy += (rx[i] - mx) * (ry[i] - my);
            sxx += (rx[i] - mx) * (rx[i] - mx);
            syy += (ry[i] - my) * (ry[i] - my);
        }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }

    private static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]])
            {
                end++;
            }
            for (var k = start; k <= end; k++)
            {
                ranks[order[k]] = (start + end) / 2.0 + 1;
            }
            start = end + 1;
        }
        return ranks;
    }

    private static TutorInterval Interval(double value, double[] draws)
    {
        var finite = draws.Where(double.IsFinite).Order().ToArray();
        if (finite.Length == 0)
        {
            return new TutorInterval(value, double.NaN, double.NaN);
        }
        return new TutorInterval(value, Quantile(finite, 0.025), Quantile(finite, 0.975));
    }

    /// <summary>The <paramref name="q"/> quantile of sorted values, interpolating linearly between order statistics.</summary>
    private static double Quantile(double[] sorted, double q)
    {
        var h = (sorted.Length - 1) * q;
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    private static double Safe(double top, double bottom) => bottom == 0 ? double.NaN : top / bottom;
}

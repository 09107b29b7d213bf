using Flywheel.Core;

namespace Flywheel.Evaluation.Health;

/// <summary>
/// Computes a loop's <see cref="HealthReport"/> from a <see cref="HealthInput"/>: every figure of docs/health.md with its
/// window and sample size, then the verdict (<see cref="HealthJudge"/>). Windows are sized by evidence, never by
/// time: the judging window holds the rewards needed to detect the loop's minimum felt effect at 95% confidence with
/// 80% power, so a busy loop is judged in minutes and a quiet one in weeks.
/// </summary>
public static class HealthCalculator
{
    /// <summary>The smallest judging window, whatever the power calculation says.</summary>
    public const int MinimumWindow = 200;

    /// <summary>The fewest decisions a learning-curve bucket holds (smaller ones are merged into the next).</summary>
    public const int MinimumBucket = 100;

    /// <summary>The launch window: the first decisions, made before the model had learned much.</summary>
    public const int LaunchWindow = 300;

    /// <summary>Contexts sampled on each side of a feature-drift comparison.</summary>
    public const int ContextSample = 2000;

    /// <summary>The fewest contexts each side of the feature drift comparison needs; fewer and no feature is compared.</summary>
    public const int MinimumContextSample = 200;

    /// <summary>The judging window for a log: how many rewards each side of a comparison needs.</summary>
    public static int JudgingWindow(long closed, double? rewardStandardDeviation, double minimumFeltEffect)
    {
        var needed = DecisionsNeeded(rewardStandardDeviation, minimumFeltEffect) ?? MinimumWindow;
        return (int)Math.Clamp(needed, MinimumWindow, Math.Max(MinimumWindow, closed / 2));
    }

    /// <summary>Rewards per side needed to detect <paramref name="effect"/> (95% two-sided, 80% power); null without spread.</summary>
    public static long? DecisionsNeeded(double? standardDeviation, double effect)
        => standardDeviation is > 0 ? Power.SampleSizePerArm(effect, standardDeviation.Value) : null;

    /// <summary>The report.</summary>
    public static HealthReport Compute(HealthInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var config = input.Config;
        var felt = config.MinimumFeltEffect;
        var rewards = input.Rewards;
        var n = rewards.Length;
        var sd = StandardDeviation(rewards);
        var needed = DecisionsNeeded(sd, felt);
        var window = JudgingWindow(n, sd, felt);
        var recentCount = Math.Min(n, Math.Max(window, 1000));
        var recent = Span(input, n - recentCount, n);

        var evidence = new HealthEvidence(input.Decisions, n, input.Counts.Signals, sd, needed,
            new DataSpan(input.Decisions, input.First, input.Last));
        var capture = Capture(input, n - recentCount, n, recent);
        var fuel = Fuel(input, n - recentCount, n, recent);
        var pipe = Pipe(input, recent);
        var latency = Latency(input);
        var curve = Curve(input, felt, window);
        var lift = Lift(input, n, window, needed, felt);
        var staleness = Staleness(input, window, felt);
        var returns = Return(input);
        var report = new HealthReport
        {
            Loop = config.Id,
            GeneratedAt = input.Now,
            MinimumFeltEffect = felt,
            Evidence = evidence,
            Verdict = new HealthVerdict(HealthStatus.WarmingUp, "", ""),
            Capture = capture,
            Fuel = fuel,
            Pipe = pipe,
            Latency = latency,
            LearningCurve = curve,
            Lift = lift,
            Staleness = staleness,
            Return = returns,
        };
        return report with { Verdict = HealthJudge.Judge(report, config) };
    }

    private static CaptureFigure Capture(HealthInput input, int from, int to, DataSpan window)
    {
        long any = 0, implicitCount = 0, explicitCount = 0;
        for (var i = from; i < to; i++)
        {
            any += input.HasSignal(i) ? 1 : 0;
            implicitCount += input.HasImplicit(i) ? 1 : 0;
            explicitCount += input.HasExplicit(i) ? 1 : 0;
        }
        var count = to - from;
        return new CaptureFigure(
            "Share of decisions whose reward window closed with at least one signal in it (Clopper–Pearson 95% interval), " +
            "split by the kind of signal type; late signals arrived after their window and do not count.",
            window, Proportion(any, count), Proportion(implicitCount, count), Proportion(explicitCount, count),
            input.Counts.LateSignals, input.Counts.OrphanedSignals);
    }

    private static FuelFigure Fuel(HealthInput input, int from, int to, DataSpan window)
    {
        var count = to - from;
        long signals = 0;
        var counts = input.SignalCounts;
        for (var i = from; i < to; i++)
        {
            signals += counts[i];
        }
        double? perHour = null;
        if (count > 0)
        {
            var hours = TimeSpan.FromTicks(input.DecidedAt[to - 1] - input.DecidedAt[from]).TotalHours;
            perHour = hours > 0 ? count / hours : null;
        }
        return new FuelFigure(
            "Joined examples (decisions with a closed reward window) per hour of the window, and in-window signals per decision.",
            window, perHour, count == 0 ? 0 : (double)signals / count);
    }

    private static PipeFigure Pipe(HealthInput input, DataSpan recent)
    {
        var deployments = 0;
        foreach (var t in input.Turns)
        {
            if (t.DeployedAt is { } at && recent.From is { } from && at >= from && IsLearnedDeployment(t.Verdict))
            {
                deployments++;
            }
        }
        return new PipeFigure(
            "Whether captured rewards reach the model users get: online loops learn each reward as its window closes; " +
            "frozen and apprentice loops only change what users get when a turn deploys a model.",
            input.Config.Mode, input.Config.Mode == LoopMode.Online, input.ModelExamples, deployments, recent);
    }

    /// <summary>Ledger outcomes that put a newly learned model in front of users.</summary>
    internal static bool IsLearnedDeployment(TurnVerdict verdict)
        => verdict is TurnVerdict.Promoted or TurnVerdict.ManuallyPromoted or TurnVerdict.Graduated;

    private static LatencyFigure Latency(HealthInput input)
    {
        LatencySummary? online = null;
        if (input.OnlineLatencySeconds.Count > 0)
        {
            var sorted = input.OnlineLatencySeconds.Order().ToArray();
            online = new LatencySummary(sorted.Length, Quantile(sorted, 0.5), Quantile(sorted, 0.9), sorted[^1]);
        }
        var turns = new List<TurnLatency>();
        foreach (var t in input.Turns)
        {
            if (t.DeployedAt is { } at && t.DeployedVersion is { } version && t.Window is { To: { } to } && IsLearnedDeployment(t.Verdict))
            {
                turns.Add(new TurnLatency(t.Number, version, Math.Max(0, (at - to).TotalSeconds)));
            }
        }
        return new LatencyFigure(
            "Online: seconds from a signal's arrival to the first decision served by a model that learned from it " +
            "(measured since the engine started). Per turn: seconds from the newest decision the turn used to its model's deployment.",
            online, turns);
    }

    private static LearningCurveFigure Curve(HealthInput input, double felt, int window)
    {
        var rewards = input.Rewards;
        var n = rewards.Length;
        // Examples learned when each decision was made: the rewards closed before it (close order is learning order).
        var closedSorted = input.ClosedAt.ToArray();
        Array.Sort(closedSorted);
        var decidedAt = input.DecidedAt;
        var points = new List<CurvePoint>();
        var max = input.Config.Reward.Max;
        long bucketEnd = MinimumBucket;
        long lo = 0;
        double sum = 0, sumSq = 0;
        long count = 0;
        var learned = 0;
        for (var i = 0; i < n; i++)
        {
            while (learned < closedSorted.Length && closedSorted[learned] <= decidedAt[i])
            {
                learned++;
            }
            while (learned >= bucketEnd && count >= MinimumBucket)
            {
                points.Add(Point(lo, bucketEnd, count, sum, sumSq, max));
                lo = bucketEnd;
                bucketEnd *= 2;
                sum = sumSq = count = 0;
            }
            while (learned >= bucketEnd)
            {
                bucketEnd *= 2;
            }
            sum += rewards[i];
            sumSq += rewards[i] * rewards[i];
            count++;
        }
        if (count >= MinimumBucket)
        {
            points.Add(Point(lo, Math.Max(lo + 1, learned), count, sum, sumSq, max));
        }
        CurveFit? fit = null;
        double? gain = null, gainUpper = null;
        bool? plateau = null;
        if (points.Count >= 5)
        {
            var x = points.Select(p => p.Examples).ToArray();
            var y = points.Select(p => p.Loss).ToArray();
            var w = points.Select(Precision).ToArray();
            var f = LearningCurve.Fit(x, y, w);
            fit = new CurveFit(f.A, f.B, f.C, f.Residual);
            gain = f.DoublingGain;
            gainUpper = DoublingGainUpper(points, x, w, f);
        }
        var lastDoubling = LastDoubling(input, window);
        if (gain is { } g && gainUpper is { } upper)
        {
            // A power law extrapolates slow gains from any early rise, so its point estimate alone over-calls gains and
            // its bound alone under-calls plateaus: below the threshold, confirmed by the bound or by the data's own last doubling.
            plateau = g < felt && (upper < felt || lastDoubling is { } last && last.Difference.Upper < felt);
        }
        return new LearningCurveFigure(
            "Mean reward of the decisions served after n examples had been learned, in buckets doubling in n (at least " +
            $"{MinimumBucket} decisions each); loss = reward.max − mean reward is fitted by loss(n) = a·n^(−b) + c over at least 5 buckets, " +
            "each weighted by its precision (1/SE²). " +
"The doubling gain a·n^(−b)·(1 − 2^(−b)) at the newest n is the predicted gain of twice the data, with the upper end of its 95% interval " +
            $"from {BootstrapFits} refits to the points redrawn within their standard errors. Plateau: the doubling gain is below the minimum felt " +
            "effect, and so is the upper end of its interval or of the measured last doubling's interval. The last doubling compares the newest decisions with as many ending halfway through the log (a quarter of the log or the judging window, whichever is smaller).",
            points, fit, gain, gainUpper, plateau, lastDoubling);
    }

    /// <summary>Replicates of the bootstrap behind the doubling gain's upper bound.</summary>
    public const int BootstrapFits = 200;

    /// <summary>
    /// The 97.5th percentile of the doubling gain over refits to the points redrawn within their standard errors:
    /// a plateau is claimed only when even an optimistic reading of the noisy points gains less than users feel.
    /// Seeded, so the same log always gives the same report.
    /// </summary>
    /// <summary>A point's weight in the fit: 1/SE² of its mean, so each weighs as much as the evidence behind it.</summary>
    private static double Precision(CurvePoint point)
    {
        var se = StandardError(point.MeanReward);
        // A bucket whose rewards are all equal has no spread: weigh it as if its variance were a coin's at its size.
        return se > 0 ? 1 / (se * se) : 4.0 * point.Decisions;
    }

    private static double StandardError(Estimate e) => e.IsBounded ? (e.Upper - e.Lower) / (2 * Estimate.Z95) : 0;

    private static double DoublingGainUpper(List<CurvePoint> points, double[] x, double[] weights, LearningCurveFit fit)
    {
        var random = new Random(BootstrapFits);
        var y = new double[points.Count];
        var gains = new double[BootstrapFits];
        for (var b = 0; b < BootstrapFits; b++)
        {
            for (var i = 0; i < y.Length; i++)
            {
                var se = StandardError(points[i].MeanReward);
                // Box–Muller: one standard normal from two uniforms.
                var z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                y[i] = Math.Max(0, points[i].Loss + se * z);
            }
            gains[b] = LearningCurve.Fit(x, y, weights).DoublingGainAt(fit.LastExamples);
        }
        Array.Sort(gains);
        return Quantile(gains, 0.975);
    }

    private static WindowComparison? LastDoubling(HealthInput input, int window)
    {
        var n = input.Closed;
        var size = Math.Min(window, n / 4);
        return size < MinimumWindow ? null : Compare(input, n / 2 - size, n / 2, n - size, n);
    }

    private static CurvePoint Point(long lo, long hi, long count, double sum, double sumSq, double max)
    {
        var mean = sum / count;
        var estimate = Estimate.Gaussian(mean, sumSq - sum * mean, count);
        // The geometric middle of the bucket (the first bucket starts at 0: its middle is half its end).
        var examples = lo == 0 ? Math.Max(1, hi / 2.0) : Math.Sqrt((double)lo * hi);
        return new CurvePoint(examples, count, estimate, max - mean);
    }

    private static LiftFigure Lift(HealthInput input, int n, int window, long? needed, double felt)
    {
        // Windows smaller than the power calculation asks for still count when their interval settles the question.
        WindowComparison? learning = null, launch = null;
        if (n >= 2 * MinimumWindow && needed is not null)
        {
            learning = Compare(input, 0, window, n - window, n);
            launch = Compare(input, 0, Math.Min(LaunchWindow, window), n - window, n);
        }
        var turns = new List<TurnLift>();
        foreach (var t in input.Turns)
        {
            if (t.DeployedVersion is not { } version || !IsLearnedDeployment(t.Verdict))
            {
                continue;
            }
            var predecessor = t.Lift?.PredecessorVersion ?? t.ChampionVersion;
            if (t.Lift is not { } l)
            {
                turns.Add(new TurnLift(t.Number, version, predecessor, null, 0, "undecided", needed));
                continue;
            }
            var status = l.Difference.Upper < felt ? "invisible"
                : l.Difference.Lower > 0 && l.Difference.Value >= felt ? "felt"
                : "undecided";
            turns.Add(new TurnLift(t.Number, version, predecessor, l.Difference, l.Decisions, status, needed));
        }
        return new LiftFigure(
            "Learning: mean reward of the newest window against the first one, each window holding the decisions needed to detect " +
            "the minimum felt effect (95% confidence, 80% power; half the log while it holds fewer), with the Welch 95% interval of the difference. " +
            $"Launch: the newest window against the first {LaunchWindow:N0} decisions, which shows what a fast learner gained early. " +
            "Choices: the model's picks against its exploration steps over the whole log. Turns: each deployed " +
            "model's online mean reward against its predecessor's, measured after the deploy; felt when the interval excludes 0 and " +
            "the lift reaches the minimum felt effect, invisible when the whole interval lies below it.",
            needed, learning, launch, Choices(input), turns);
    }

    private static ChoiceComparison? Choices(HealthInput input)
    {
        var rewards = input.Rewards;
        double ps = 0, pq = 0, es = 0, eq = 0;
        long picked = 0, explored = 0;
        for (var i = 0; i < rewards.Length; i++)
        {
            var r = rewards[i];
            if (input.WasExplored(i))
            {
                explored++;
                es += r;
                eq += r * r;
            }
            else
            {
                picked++;
                ps += r;
                pq += r * r;
            }
        }
        if (picked < 2 || explored < 2)
        {
            return null;
        }
        var w = WelchInterval.FromSums(picked, ps, pq, explored, es, eq);
        return new ChoiceComparison(picked, Estimate.Gaussian(ps / picked, pq - ps * ps / picked, picked), explored,
            Estimate.Gaussian(es / explored, eq - es * es / explored, explored), new Estimate(w.Difference, w.Lower, w.Upper));
    }

    private static StalenessFigure Staleness(HealthInput input, int window, double felt)
    {
        var rewards = input.Rewards;
        var n = rewards.Length;
        var byAge = new List<AgeBucket>();
        if (n > 0)
        {
            (string Label, double From, double To)[] buckets = [("newest 10%", 0.9, 1), ("10-25% old", 0.75, 0.9), ("25-50% old", 0.5, 0.75), ("oldest 50%", 0, 0.5)];
            foreach (var (label, from, to) in buckets)
            {
                var a = (int)Math.Floor(n * from);
                var b = (int)Math.Floor(n * to);
                if (b > a)
                {
                    byAge.Add(new AgeBucket(label, Span(input, a, b), Mean(rewards[a..b])));
                }
            }
        }
        double? rewardPsi = null;
        if (n >= 2 * window)
        {
            var config = input.Config.Reward;
            Span<long> expected = stackalloc long[10];
            Span<long> actual = stackalloc long[10];
            BinRewards(rewards[(n - 2 * window)..(n - window)], config.Min, config.Max, expected);
            BinRewards(rewards[(n - window)..], config.Min, config.Max, actual);
            rewardPsi = PopulationStability.FromCounts(expected, actual);
        }
        return new StalenessFigure(
            "Mean reward of served decisions by age of the data; PSI (10 bins, empty bins at 1e-4) of the newest window's rewards " +
            "against the window before, and of context features in the newest week against the week before (the newest day against the day before " +
            $"when the log spans less than two weeks, its two halves when less than two days), up to {ContextSample} decisions spread evenly over each, " +
            $"at least {MinimumContextSample} " +
            "(below 0.1 stable, 0.1-0.25 some change, above 0.25 shifted); Page-Hinkley on the reward stream (scaled to [0, 1]) for drops; stale when the window before the newest alarm's change point and the newest window (a quarter of the judging window) differ by at least the minimum felt effect and twice the usual swing between windows, with an interval excluding zero.",
            byAge, rewardPsi, FeatureDrifts.Compute(input.BaselineContexts, input.RecentContexts), Drift(input, window, felt));
    }

    private static void BinRewards(ReadOnlySpan<double> rewards, double min, double max, Span<long> counts)
    {
        var width = (max - min) / counts.Length;
        foreach (var r in rewards)
        {
            var bin = (int)Math.Floor((r - min) / width);
            counts[Math.Clamp(bin, 0, counts.Length - 1)]++;
        }
    }

    private static DriftFigure Drift(HealthInput input, int window, double felt)
    {
        var rewards = input.Rewards;
        var n = rewards.Length;
        var min = input.Config.Reward.Min;
        var range = input.Config.Reward.Max - min;
        var detector = PageHinkley.ForDrops();
        long alarms = 0;
        int? changeAt = null;
        int? alarmAt = null;
        var segmentStart = 0;
        for (var i = 0; i < n; i++)
        {
            if (detector.Add((rewards[i] - min) / range))
            {
                alarms++;
                alarmAt = i;
                changeAt = ChangePoint(rewards[segmentStart..(i + 1)]) + segmentStart;
                detector.Reset();
                segmentStart = i + 1;
            }
        }
        WindowComparison? change = null;
        double? swing = null;
        var stale = false;
        if (changeAt is { } c && c >= 30)
        {
            // A quarter window after the change: enough to confirm a felt drop, short enough to see a recovery soon.
            var afterCount = Math.Min(Math.Max(MinimumWindow, window / 4), n - c);
            var beforeFrom = Math.Max(0, c - window);
            change = Compare(input, beforeFrom, c, n - afterCount, n);
            swing = TypicalSwing(rewards[..c], afterCount);
            stale = -change.Difference.Value >= Math.Max(felt, 2 * (swing ?? 0)) && change.Difference.Upper < 0;
        }
        return new DriftFigure(alarms, alarmAt is { } a ? new DateTimeOffset(input.ClosedAt[a], TimeSpan.Zero) : null, change, swing, stale);
    }

    /// <summary>
    /// The world's own swing in mean reward between successive windows of <paramref name="size"/> rewards:
    /// √(mean of squared successive differences / 2), which a slow trend (learning) barely inflates. Null with fewer
    /// than 4 windows.
    /// </summary>
    internal static double? TypicalSwing(ReadOnlySpan<double> rewards, int size)
    {
        var blocks = rewards.Length / size;
        if (size < 1 || blocks < 4)
        {
            return null;
        }
        double previous = 0, sumSquares = 0;
        for (var b = 0; b < blocks; b++)
        {
            var mean = Mean(rewards.Slice(b * size, size)).Value;
            if (b > 0)
            {
                sumSquares += (mean - previous) * (mean - previous);
            }
            previous = mean;
        }
        return Math.Sqrt(sumSquares / (blocks - 1) / 2);
    }

    /// <summary>
    /// Where a drop began within a segment that ends at an alarm: the index after the peak of Σ(x − mean), the
    /// cumulative-sum estimate of a single change in mean. The statistic's own climb is a poor guide: after a
    /// reset its running mean is noisy and can climb long before the change.
    /// </summary>
    internal static int ChangePoint(ReadOnlySpan<double> segment)
    {
        var mean = 0.0;
        foreach (var x in segment)
        {
            mean += x;
        }
        mean /= segment.Length;
        double sum = 0, peak = 0;
        var at = 0;
        for (var k = 0; k < segment.Length; k++)
        {
            sum += segment[k] - mean;
            if (sum > peak)
            {
                peak = sum;
                at = k + 1;
            }
        }
        return at;
    }

    private static ReturnFigure Return(HealthInput input)
    {
        var keys = input.UserDays();
        long lastDay = 0;
        foreach (var k in keys)
        {
            lastDay = Math.Max(lastDay, k & 0xFFFFFF);
        }
        ReadOnlySpan<int> horizons = [1, 7, 30];
        Span<long> eligible = stackalloc long[3];
        Span<long> returned = stackalloc long[3];
        var streakBuckets = new long[6];
        var i = 0;
        while (i < keys.Length)
        {
            var user = keys[i] >> 24;
            var j = i;
            var longest = 1;
            var run = 1;
            while (j < keys.Length && keys[j] >> 24 == user)
            {
                var day = keys[j] & 0xFFFFFF;
                var next = j + 1 < keys.Length && keys[j + 1] >> 24 == user ? keys[j + 1] & 0xFFFFFF : long.MaxValue;
                for (var h = 0; h < horizons.Length; h++)
                {
                    if (day + horizons[h] <= lastDay)
                    {
                        eligible[h]++;
                        returned[h] += next - day <= horizons[h] ? 1 : 0;
                    }
                }
                if (next == day + 1)
                {
                    run++;
                    longest = Math.Max(longest, run);
                }
                else
                {
                    run = 1;
                }
                j++;
            }
            streakBuckets[StreakBucketOf(longest)]++;
            i = j;
        }
        string[] labels = ["1", "2-3", "4-7", "8-14", "15-30", "31+"];
        return new ReturnFigure(
            "Active days per user (UTC) from decisions with a user id and user-level signals such as return_visit. A return " +
            "rate counts the active days at least that many days before the newest data, and the share followed by another active " +
            "day within 1, 7 or 30 days. Streaks: users by their longest run of consecutive active days.",
            input.Users,
            Rate(returned[0], eligible[0]), Rate(returned[1], eligible[1]), Rate(returned[2], eligible[2]),
            [.. labels.Select((label, b) => new StreakBucket(label, streakBuckets[b]))]);
    }

    private static int StreakBucketOf(int days) => days switch
    {
        1 => 0,
        <= 3 => 1,
        <= 7 => 2,
        <= 14 => 3,
        <= 30 => 4,
        _ => 5,
    };

    private static ReturnRate Rate(long successes, long trials) => new(Proportion(successes, trials), trials);

    internal static WindowComparison Compare(HealthInput input, int beforeFrom, int beforeTo, int afterFrom, int afterTo)
    {
        var rewards = input.Rewards;
        var (bs, bq) = Sums(rewards[beforeFrom..beforeTo]);
        var (a, aq) = Sums(rewards[afterFrom..afterTo]);
        var nb = beforeTo - beforeFrom;
        var na = afterTo - afterFrom;
        Estimate difference;
        if (nb >= 2 && na >= 2)
        {
            var w = WelchInterval.FromSums(na, a, aq, nb, bs, bq);
            difference = new Estimate(w.Difference, w.Lower, w.Upper);
        }
        else
        {
            difference = new Estimate(na > 0 && nb > 0 ? a / na - bs / nb : double.NaN, double.NegativeInfinity, double.PositiveInfinity);
        }
        return new WindowComparison(Span(input, beforeFrom, beforeTo), Mean(rewards[beforeFrom..beforeTo]),
            Span(input, afterFrom, afterTo), Mean(rewards[afterFrom..afterTo]), difference);
    }

    private static (double Sum, double SumOfSquares) Sums(ReadOnlySpan<double> values)
    {
        double s = 0, q = 0;
        foreach (var v in values)
        {
            s += v;
            q += v * v;
        }
        return (s, q);
    }

    internal static Estimate Mean(ReadOnlySpan<double> values)
    {
        if (values.IsEmpty)
        {
            return new Estimate(double.NaN, double.NegativeInfinity, double.PositiveInfinity);
        }
        var (s, q) = Sums(values);
        var mean = s / values.Length;
        return Estimate.Gaussian(mean, q - s * mean, values.Length);
    }

    private static double? StandardDeviation(ReadOnlySpan<double> values)
    {
        if (values.Length < 2)
        {
            return null;
        }
        double mean = 0, m2 = 0;
        for (var i = 0; i < values.Length; i++)
        {
            var d = values[i] - mean;
            mean += d / (i + 1);
            m2 += d * (values[i] - mean);
        }
        return Math.Sqrt(m2 / (values.Length - 1));
    }

    internal static Estimate Proportion(long successes, long trials)
    {
        if (trials == 0)
        {
            return new Estimate(double.NaN, double.NegativeInfinity, double.PositiveInfinity);
        }
        var (lo, hi) = ClopperPearson.Interval(successes, trials);
        return new Estimate((double)successes / trials, lo, hi);
    }

    private static DataSpan Span(HealthInput input, int from, int to)
        => to <= from ? new DataSpan(0, null, null)
            : new DataSpan(to - from, new DateTimeOffset(input.DecidedAt[from], TimeSpan.Zero), new DateTimeOffset(input.DecidedAt[to - 1], TimeSpan.Zero));

    private static double Quantile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var lo = (int)Math.Floor(position);
        var hi = Math.Min(sorted.Length - 1, lo + 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo);
    }
}

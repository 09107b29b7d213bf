using Flywheel.Core;
using Flywheel.Evaluation.Health;

namespace Flywheel.Evaluation.Tests.Health;

/// <summary>
/// The health report over synthetic logs whose truth is known: each verdict from the evidence that defines it, and
/// the figures checked against values computed by hand.
/// </summary>
public class HealthCalculatorTests
{
    private static readonly DateTimeOffset Start = new(2027, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static LoopConfig Config(LoopMode mode = LoopMode.Online, double felt = LoopConfig.DefaultMinimumFeltEffect) => new()
    {
        Id = "feed",
        Mode = mode,
        MinimumFeltEffect = felt,
        Signals = new Dictionary<string, SignalTypeConfig>
        {
            ["watch"] = new() { Kind = SignalKind.Implicit, Weight = 1 },
            ["thumbs_up"] = new() { Kind = SignalKind.Explicit, Weight = 1 },
        },
    };

    /// <summary>
    /// A log of <paramref name="count"/> decisions a minute apart, each closed a minute later with a Bernoulli reward
    /// of probability <paramref name="p"/>(i), signalled when it is 1 (the reward is the signal).
    /// </summary>
    private static HealthInput Log(int count, Func<int, double> p, LoopConfig? config = null, int seed = 1, bool signals = true, IReadOnlyList<TurnRecord>? turns = null)
    {
        var random = new Random(seed);
        var input = new HealthInput
        {
            Config = config ?? Config(),
            Now = Start.AddMinutes(count + 10),
            Counts = new LoopCounts(count, count, 0, 0, count),
            Turns = turns ?? [],
        };
        for (var i = 0; i < count; i++)
        {
            var at = Start.AddMinutes(i);
            var reward = random.NextDouble() < p(i) ? 1.0 : 0.0;
            var signalled = signals && reward > 0;
            input.Add(new DecisionOutcome(at, $"u{i % 50}", 1, i + 1, reward, at.AddMinutes(1), signalled ? 1 : 0, signalled ? 1 : 0, 0));
        }
        return input;
    }

    private static HealthReport Report(HealthInput input) => HealthCalculator.Compute(input);

    [Fact]
    public void Compute_EmptyLog_WarmingUpWithoutFigures()
    {
        var report = Report(Log(0, _ => 0));

        Assert.Equal(HealthStatus.WarmingUp, report.Verdict.Status);
        Assert.Equal(0, report.Capture.Window.Decisions);
        Assert.True(double.IsNaN(report.Capture.Rate.Value));
        Assert.Null(report.LearningCurve.Fit);
        Assert.Null(report.Lift.Learning);
        Assert.Equal(0, report.Return.Users);
    }

    [Fact]
    public void Compute_NoSignalInAThousandWindows_NoSignal()
    {
        var report = Report(Log(1000, _ => 0.5, signals: false));

        Assert.Equal(HealthStatus.NoSignal, report.Verdict.Status);
        Assert.Equal(0, report.Capture.Rate.Value);
        Assert.True(report.Capture.Rate.Upper < HealthJudge.NoSignalCapture);
        Assert.Contains("0.0%", report.Verdict.Evidence, StringComparison.Ordinal);
        Assert.Contains("1,000", report.Verdict.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_NoSignalInFiftyWindows_WarmingUpNotNoSignal()
    {
        // Zero of 50 still allows a capture rate up to 7% (Clopper–Pearson): too little evidence to say nothing is captured.
        var report = Report(Log(50, _ => 0.5, signals: false));

        Assert.Equal(HealthStatus.WarmingUp, report.Verdict.Status);
    }

    [Fact]
    public void Compute_FrozenLoopCapturingSignals_NoPipe()
    {
        var report = Report(Log(5000, _ => 0.3, Config(LoopMode.Frozen)));

        Assert.Equal(HealthStatus.NoPipe, report.Verdict.Status);
        Assert.False(report.Pipe.LearnsOnline);
        Assert.Equal(0, report.Pipe.Deployments);
        Assert.Contains("frozen", report.Verdict.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_FrozenLoopWithAPromotedTurnInTheRecentWindow_NotNoPipe()
    {
        var turn = new TurnRecord
        {
            Loop = "feed",
            Number = 1,
            Trigger = TurnTrigger.Schedule,
            StartedAt = Start.AddMinutes(4900),
            FinishedAt = Start.AddMinutes(4900),
            ChampionVersion = 1,
            Verdict = TurnVerdict.Promoted,
            Reason = "better",
            DeployedVersion = 2,
            DeployedAt = Start.AddMinutes(4900),
            Window = new DataWindow { AfterSequence = 0, ThroughSequence = 4800, From = Start, To = Start.AddMinutes(4800), Decisions = 4800, Signals = 1400 },
        };

        var report = Report(Log(5000, _ => 0.3, Config(LoopMode.Frozen), turns: [turn]));

        Assert.Equal(1, report.Pipe.Deployments);
        Assert.NotEqual(HealthStatus.NoPipe, report.Verdict.Status);
        Assert.Single(report.Latency.Turns);
        Assert.Single(report.Lift.Turns);
        Assert.Equal("undecided", report.Lift.Turns[0].Status);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Compute_RewardStillClimbingAsAPowerLaw_Spinning(int seed)
    {
        // Loss 1 − p = 0.1 + 3·(n+100)^−0.25: doubling at 40,000 still gains about 0.034 > 0.02.
        var report = Report(Log(40_000, i => 0.9 - 3 * Math.Pow(i + 100, -0.25), seed: seed));

        Assert.Equal(HealthStatus.Spinning, report.Verdict.Status);
        Assert.NotNull(report.LearningCurve.Fit);
        Assert.False(report.LearningCurve.Plateau);
        Assert.InRange(report.LearningCurve.DoublingGain!.Value, 0.02, 0.06);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Compute_GainedEarlyThenFlat_Plateau(int seed)
    {
        // Rises from 0.2 to 0.5 over the first few thousand decisions, then nothing more to learn.
        var report = Report(Log(40_000, i => 0.5 - 0.3 * Math.Exp(-i / 2000.0), seed: seed));

        Assert.Equal(HealthStatus.Plateau, report.Verdict.Status);
        Assert.True(report.LearningCurve.Plateau);
        Assert.True(report.LearningCurve.DoublingGain < report.MinimumFeltEffect);
        Assert.True(report.LearningCurve.LastDoubling!.Difference.Upper < report.MinimumFeltEffect);
    }

    [Fact]
    public void Compute_FastLearnerGainedInItsFirstFiveHundredDecisions_PlateauNotInvisible()
    {
        // Learned in ~500 decisions: the first judging window (≈ 9,800) barely sees it; the launch window (300) does.
        var report = Report(Log(40_000, i => 0.5 - 0.3 * Math.Exp(-i / 150.0)));

        Assert.Equal(HealthStatus.Plateau, report.Verdict.Status);
        Assert.True(report.Lift.Launch!.Difference.Lower >= report.MinimumFeltEffect);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Compute_GainBelowWhatUsersFeelWithEnoughTraffic_Invisible(int seed)
    {
        // 0.300 → 0.306: the loop learns, but by 0.006.
        var report = Report(Log(40_000, i => 0.3 + 0.006 * i / 40_000.0, seed: seed));

        Assert.Equal(HealthStatus.Invisible, report.Verdict.Status);
        Assert.True(report.Lift.Learning!.Before.Decisions >= report.Lift.DecisionsNeeded);
    }

    [Fact]
    public void Compute_SmallGainWithTooLittleTraffic_WarmingUpSaysHowMuchMore()
    {
        // 2,000 decisions cannot tell a 0.006 gain from a 0.02 one: not invisible yet.
        var report = Report(Log(2000, i => 0.3 + 0.006 * i / 2000.0));

        Assert.Equal(HealthStatus.WarmingUp, report.Verdict.Status);
        Assert.Contains("more rewarded decisions", report.Verdict.Advice, StringComparison.Ordinal);
        Assert.True(report.Lift.DecisionsNeeded > 1000);
    }

    [Fact]
    public void Compute_FeltThresholdRaised_SameLogTurnsInvisible()
    {
        // The log of the spinning test gains about 0.65 from launch; with a threshold of 0.8 nobody would feel it.
        var report = Report(Log(40_000, i => 0.9 - 3 * Math.Pow(i + 100, -0.25), Config(felt: 0.8)));

        Assert.Equal(HealthStatus.Invisible, report.Verdict.Status);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Compute_RewardDroppedAndStayedDown_StaleWithTheDrop(int seed)
    {
        var report = Report(Log(30_000, i => i < 25_000 ? 0.66 : 0.38, seed: seed));

        Assert.Equal(HealthStatus.Stale, report.Verdict.Status);
        var drift = report.Staleness.Drift;
        Assert.True(drift.Stale);
        Assert.True(drift.Alarms >= 1);
        Assert.InRange(drift.Change!.BeforeReward.Value, 0.62, 0.70);
        Assert.InRange(drift.Change.AfterReward.Value, 0.34, 0.42);
        // The windows compared lie on either side of the true change (its estimate is noisy, never after the alarm).
        Assert.True(drift.Change.Before.To <= Start.AddMinutes(25_300), $"before window ends {drift.Change.Before.To}");
        Assert.True(drift.Change.After.From >= Start.AddMinutes(25_000), $"after window starts {drift.Change.After.From}");
    }

    [Fact]
    public void Compute_RewardDroppedThenRecovered_NotStale()
    {
        var report = Report(Log(40_000, i => i is >= 20_000 and < 22_000 ? 0.38 : 0.66));

        Assert.False(report.Staleness.Drift.Stale);
        Assert.NotEqual(HealthStatus.Stale, report.Verdict.Status);
    }

    [Fact]
    public void Compute_StableNoisyRewards_NoStaleness()
    {
        var report = Report(Log(60_000, _ => 0.5));

        Assert.False(report.Staleness.Drift.Stale);
        Assert.InRange(report.Staleness.RewardPsi!.Value, 0, 0.01);
    }

    [Fact]
    public void Compute_CaptureSplitByKind_HandCounted()
    {
        var input = new HealthInput { Config = Config(), Now = Start, Counts = new LoopCounts(10, 9, 2, 1, 8) };
        // 8 closed: 4 implicit only, 1 explicit only, 1 both, 2 without signals; 2 still open.
        (int Implicit, int Explicit)[] closed = [(1, 0), (2, 0), (1, 0), (1, 0), (0, 1), (1, 1), (0, 0), (0, 0)];
        for (var i = 0; i < closed.Length; i++)
        {
            var (im, ex) = closed[i];
            input.Add(new DecisionOutcome(Start.AddMinutes(i), null, 1, i + 1, im + ex, Start.AddMinutes(i + 1), im + ex, im, ex));
        }
        input.Add(new DecisionOutcome(Start.AddMinutes(9), null, 1, 0, 0, default, 0, 0, 0));
        input.Add(new DecisionOutcome(Start.AddMinutes(10), null, 1, 0, 0, default, 0, 0, 0));

        var report = Report(input);

        Assert.Equal(8, report.Capture.Window.Decisions);
        Assert.Equal(6 / 8.0, report.Capture.Rate.Value, 12);
        Assert.Equal(5 / 8.0, report.Capture.Implicit.Value, 12);
        Assert.Equal(2 / 8.0, report.Capture.Explicit.Value, 12);
        Assert.Equal(2, report.Capture.LateSignals);
        Assert.Equal(1, report.Capture.OrphanedSignals);
        // Fuel: 8 examples over the 7 minutes between the first and last closed decision; 8 signals over 8 decisions.
        Assert.Equal(8 / (7 / 60.0), report.Fuel.ExamplesPerHour!.Value, 9);
        Assert.Equal(1.0, report.Fuel.SignalsPerDecision, 12);
        Assert.Equal(10, report.Evidence.Decisions);
        Assert.Equal(8, report.Evidence.Rewards);
    }

    [Fact]
    public void Compute_ReturnRatesAndStreaks_HandCounted()
    {
        var input = new HealthInput { Config = Config(), Now = Start.AddDays(40), Counts = new LoopCounts(0, 0, 0, 0, 0) };
        void Visit(string user, params int[] days)
        {
            foreach (var d in days)
            {
                input.Add(new UserVisit(user, Start.AddDays(d).AddHours(9)));
            }
        }
        // The data ends on day 40.
        Visit("ann", 0, 1, 2, 3, 10);      // streak 4
        Visit("bob", 5, 12, 40);           // streak 1
        Visit("cat", 20, 21);              // streak 2
        Visit("dan", 39, 40);              // streak 2

        var report = Report(input);
        var r = report.Return;

        Assert.Equal(4, r.Users);
        // Within 1 day: visit days with day + 1 ≤ 40: ann 0,1,2,3,10; bob 5,12; cat 20,21; dan 39 = 10, of which
        // followed the next day: ann 0,1,2; cat 20; dan 39 = 5.
        Assert.Equal(10, r.Within1Day.Visits);
        Assert.Equal(0.5, r.Within1Day.Rate.Value, 12);
        // Within 7: days ≤ 33: ann 0,1,2,3,10; bob 5,12; cat 20,21 = 9; returned: ann 0,1,2,3 (3→10 is 7), bob 5 (→12), cat 20 = 6.
        Assert.Equal(9, r.Within7Days.Visits);
        Assert.Equal(6 / 9.0, r.Within7Days.Rate.Value, 12);
        // Within 30: days ≤ 10: ann 0,1,2,3,10; bob 5 = 6; returned: ann 0,1,2,3 (10 → nothing after), bob 5 = 5.
        Assert.Equal(6, r.Within30Days.Visits);
        Assert.Equal(5 / 6.0, r.Within30Days.Rate.Value, 12);
        Assert.Equal(["1", "2-3", "4-7", "8-14", "15-30", "31+"], r.Streaks.Select(s => s.Days));
        Assert.Equal([1L, 2, 1, 0, 0, 0], r.Streaks.Select(s => s.Users));
    }

    [Fact]
    public void Compute_LearningCurveBuckets_DoubleAndHoldEnoughDecisions()
    {
        var report = Report(Log(20_000, i => 0.9 - 3 * Math.Pow(i + 100, -0.25)));
        var points = report.LearningCurve.Points;

        Assert.True(points.Count >= 5);
        Assert.All(points, p => Assert.True(p.Decisions >= HealthCalculator.MinimumBucket));
        Assert.Equal(20_000, points.Sum(p => p.Decisions));
        for (var i = 1; i < points.Count; i++)
        {
            Assert.True(points[i].Examples > points[i - 1].Examples);
        }
        Assert.All(points, p => Assert.Equal(1 - p.MeanReward.Value, p.Loss, 12));
    }

    [Fact]
    public void Compute_TurnLifts_FeltInvisibleOrUndecidedByTheirIntervals()
    {
        TurnRecord Promoted(long number, Estimate difference) => new()
        {
            Loop = "feed",
            Number = number,
            Trigger = TurnTrigger.Schedule,
            StartedAt = Start,
            FinishedAt = Start,
            ChampionVersion = (int)number,
            Verdict = TurnVerdict.Promoted,
            Reason = "better",
            DeployedVersion = (int)number + 1,
            DeployedAt = Start,
            Window = new DataWindow { AfterSequence = 0, ThroughSequence = 10, From = Start, To = Start.AddMinutes(-5), Decisions = 10, Signals = 10 },
            Lift = new OnlineLift
            {
                Version = (int)number + 1,
                PredecessorVersion = (int)number,
                Decisions = 5000,
                Mean = 0.5,
                PredecessorDecisions = 5000,
                PredecessorMean = 0.5 - difference.Value,
                Difference = difference,
                Relative = 0,
                MeasuredAt = Start,
            },
        };
        TurnRecord[] turns = [Promoted(1, new(0.05, 0.03, 0.07)), Promoted(2, new(0.005, -0.005, 0.015)), Promoted(3, new(0.02, -0.01, 0.05))];

        var report = Report(Log(1000, _ => 0.5, turns: turns));

        Assert.Equal(["felt", "invisible", "undecided"], report.Lift.Turns.Select(t => t.Status));
        Assert.All(report.Latency.Turns, t => Assert.Equal(300, t.Seconds));
    }

    [Fact]
    public void Compute_SameInputTwice_SameReport()
    {
        var a = Report(Log(20_000, i => 0.9 - 3 * Math.Pow(i + 100, -0.25)));
        var b = Report(Log(20_000, i => 0.9 - 3 * Math.Pow(i + 100, -0.25)));

        Assert.Equal(FlywheelJson.Serialize(a), FlywheelJson.Serialize(b));
    }
}

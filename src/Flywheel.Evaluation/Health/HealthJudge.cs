using System.Globalization;
using Flywheel.Core;

namespace Flywheel.Evaluation.Health;

/// <summary>
/// Turns the figures into one verdict, checking the links of the wheel in the order data flows through them:
/// capture, then whether the world moved under the model, then the pipe back into the product, then whether the
/// gains are felt, then whether more data still helps. Every step asks for evidence (decisions and intervals), never
/// for time; without enough evidence for a step the verdict is <see cref="HealthStatus.WarmingUp"/> with how much more is needed.
/// </summary>
public static class HealthJudge
{
    /// <summary>Below this capture rate (the upper end of its 95% interval) nothing is being captured.</summary>
    public const double NoSignalCapture = 0.01;

    /// <summary>The fewest closed decisions any verdict other than no-signal needs.</summary>
    public const int MinimumRewards = 100;

    /// <summary>The verdict for <paramref name="report"/>.</summary>
    public static HealthVerdict Judge(HealthReport report, LoopConfig config)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(config);
        var felt = report.MinimumFeltEffect;
        var capture = report.Capture;
        var closed = capture.Window.Decisions;

        if (closed > 0 && capture.Rate.Upper < NoSignalCapture)
        {
            return new(HealthStatus.NoSignal,
                $"{P(capture.Rate.Value)} of the newest {N(closed)} closed decisions got a signal inside their {S(config.Reward.WindowSeconds)} reward window " +
                $"(95% interval up to {P(capture.Rate.Upper)}); {N(capture.LateSignals)} signals arrived late and {N(capture.OrphanedSignals)} named unknown decisions.",
                "Send the signals users leave after each decision (watched, skipped, clicked, rated) with the decision's id and within the reward window; without them there is nothing to learn from.");
        }
        if (report.Evidence.Rewards < MinimumRewards)
        {
            return WarmingUp(
                $"only {N(report.Evidence.Rewards)} decisions have closed their reward window ({N(report.Evidence.Decisions)} logged); the report judges from {MinimumRewards}.",
                MinimumRewards - report.Evidence.Rewards);
        }

        var drift = report.Staleness.Drift;
        if (drift.Stale && drift.Change is { } change)
        {
            var top = report.Staleness.FeaturePsi.FirstOrDefault(f => f.Psi >= 0.1);
            return new(HealthStatus.Stale,
                $"Mean reward fell from {R(change.BeforeReward.Value)} ({N(change.Before.Decisions)} decisions before the change Page-Hinkley flagged) to " +
                $"{R(change.AfterReward.Value)} over the newest {N(change.After.Decisions)} (difference {R(change.Difference.Value)}, 95% interval " +
                $"{R(change.Difference.Lower)} to {R(change.Difference.Upper)}), more than the {R(felt)} users feel and than twice the reward's usual swing between windows ({R(drift.TypicalSwing ?? 0)})" +
                (top is null ? "." : $"; the context feature that moved most is {top.Feature} (PSI {top.Psi.ToString("0.00", CultureInfo.InvariantCulture)})."),
                "The world has moved away from the model: keep the loop learning online and run a turn on recent data now (POST /v1/loops/{loop}/turns) instead of waiting for the schedule.");
        }

        var pipe = report.Pipe;
        if (!pipe.LearnsOnline && pipe.Deployments == 0)
        {
            var why = pipe.Mode == LoopMode.Frozen ? "the loop is frozen, so its model never learns" : "the loop serves the product's baseline while its learner is an apprentice";
            return new(HealthStatus.NoPipe,
                $"{P(capture.Rate.Value)} of the newest {N(closed)} closed decisions carried signals, but {why}, and no turn deployed a model over that window " +
                $"({N(pipe.RecentWindow.Decisions)} decisions); the serving model has learned {N(pipe.ModelExamples)} examples of {N(report.Evidence.Rewards)} rewards.",
                pipe.Mode == LoopMode.Frozen
                    ? "Connect the captured signals to the model: set the loop's mode to online, or let turns promote candidates (turns.promoteWhen), so what users do changes what they get."
                    : "Let the apprentice graduate or promote a model, so that what the learner picked up reaches users.");
        }

        var lift = report.Lift;
        var needed = lift.DecisionsNeeded;
        if (lift.Learning is not { } learning)
        {
            var have = report.Evidence.Rewards;
            var more = needed is { } w ? Math.Max(2 * Math.Max(w, HealthCalculator.MinimumWindow) - have, 1) : MinimumRewards;
            return WarmingUp(
                needed is { } n
                    ? $"telling a gain of {R(felt)} in mean reward from none takes {N(n)} rewarded decisions at the start and {N(n)} now (95% confidence, 80% power); the log has {N(have)}."
                    : $"all {N(have)} rewards are equal, so no gain can be measured yet.",
                more);
        }

        var d = learning.Difference;
        var powered = needed is { } perWindow && learning.Before.Decisions >= perWindow;
        // Felt: a deployed turn was, or learning's gain reached the threshold with an interval above zero, or the gain
        // since launch lies above the threshold even at the low end of its interval (a fast learner's early gains).
        // A fourth witness needs no launch data at all: the model's picks beat the alternatives it explores by a felt margin.
        var feltGains = lift.Turns.Any(t => t.Status == "felt") || (d.Value >= felt && d.Lower > 0)
            || lift.Launch is { Difference.Lower: var low } && low >= felt
            || lift.Choices is { Difference.Lower: var margin } && margin >= felt;
        // Invisible needs evidence too: an interval wholly below the threshold, or windows as large as the power
        // calculation asks for (then a felt gain would have shown).
        if (!feltGains && d.Upper >= felt && !powered)
        {
            var more = 2 * (needed ?? 0) - report.Evidence.Rewards;
            return WarmingUp(
                $"mean reward moved by {R(d.Value)} between the first and newest {N(learning.After.Decisions)} decisions (95% interval {R(d.Lower)} to {R(d.Upper)}); " +
                $"telling a gain of {R(felt)} from none takes {N(needed ?? 0)} decisions in each window.",
                Math.Max(more, 1));
        }
        if (!feltGains)
        {
            return new(HealthStatus.Invisible,
                $"Mean reward moved from {R(learning.BeforeReward.Value)} over the first {N(learning.Before.Decisions)} decisions to {R(learning.AfterReward.Value)} over the newest " +
                $"{N(learning.After.Decisions)} (difference {R(d.Value)}, 95% interval {R(d.Lower)} to {R(d.Upper)}), below the {R(felt)} users can feel" +
                (d.Upper < felt ? "; the whole interval lies below it." : $"; each window holds the {N(needed ?? 0)} decisions needed to see a felt gain."),
                "The loop learns but users cannot feel it: give the model something to tell users and items apart (context and item features, interactions), widen the candidates, or lower minimumFeltEffect if smaller gains matter to the product.");
        }

        var gained = GainText(lift, learning, felt);
        var curve = report.LearningCurve;
        // The fit extrapolates; when the data's own last doubling gained a felt amount for sure, more data still helps.
        var stillGaining = curve.LastDoubling is { } last && last.Difference.Value >= felt && last.Difference.Lower > 0;
        if (curve.Plateau == true && curve.DoublingGain is { } gain && !stillGaining)
        {
            return new(HealthStatus.Plateau,
                $"{gained}, but the learning curve (loss = {R(curve.Fit!.A)}·n^-{curve.Fit.B.ToString("0.###", CultureInfo.InvariantCulture)} + {R(curve.Fit.C)}) " +
                $"predicts that doubling the data gains {R(gain)} (95% interval up to {R(curve.DoublingGainUpper ?? gain)}), below the {R(felt)} users feel" +
                (curve.LastDoubling is { } ld ? $"; the last doubling of the data gained {R(ld.Difference.Value)} (95% interval {R(ld.Difference.Lower)} to {R(ld.Difference.Upper)})." : "."),
                "More of the same data no longer helps: add new signals or features (who, when, what), new candidates, or a richer learner (interactions); volume alone is not the lever now.");
        }

        return new(HealthStatus.Spinning,
            $"{gained}, " +
            (stillGaining ? $"and the last doubling of the data still gained {R(curve.LastDoubling!.Difference.Value)} (95% interval {R(curve.LastDoubling.Difference.Lower)} to {R(curve.LastDoubling.Difference.Upper)})"
                : curve.DoublingGain is { } g ? $"and doubling the data is predicted to gain {R(g)} more"
                : "and the learning curve has too few points to call a plateau") +
            $"; {P(capture.Rate.Value)} of decisions carry signals.",
            "Keep it turning: more usage still brings gains users feel, so grow traffic and keep signals flowing.");
    }

    /// <summary>The evidence that gains were felt, in words: the first witness that shows it.</summary>
    private static string GainText(LiftFigure lift, WindowComparison learning, double felt)
    {
        var d = learning.Difference;
        if (d.Value >= felt && d.Lower > 0)
        {
            return $"Mean reward rose from {R(learning.BeforeReward.Value)} over the first {N(learning.Before.Decisions)} decisions to {R(learning.AfterReward.Value)} over the newest {N(learning.After.Decisions)} " +
                $"(difference {R(d.Value)}, 95% interval {R(d.Lower)} to {R(d.Upper)})";
        }
        if (lift.Launch is { } launch && launch.Difference.Lower >= felt)
        {
            return $"Mean reward rose from {R(launch.BeforeReward.Value)} over the first {N(launch.Before.Decisions)} decisions to {R(launch.AfterReward.Value)} over the newest {N(launch.After.Decisions)} " +
                $"(difference {R(launch.Difference.Value)}, 95% interval {R(launch.Difference.Lower)} to {R(launch.Difference.Upper)})";
        }
        if (lift.Choices is { } c && c.Difference.Lower >= felt)
        {
            return $"The model's picks earn {R(c.PickedReward.Value)} against {R(c.ExploredReward.Value)} for the alternatives it explores ({N(c.Picked)} and {N(c.Explored)} decisions; " +
                $"difference {R(c.Difference.Value)}, 95% interval {R(c.Difference.Lower)} to {R(c.Difference.Upper)})";
        }
        var turn = lift.Turns.First(t => t.Status == "felt");
        return $"Turn {turn.Turn} lifted mean reward by {R(turn.Difference!.Value.Value)} (95% interval {R(turn.Difference.Value.Lower)} to {R(turn.Difference.Value.Upper)})";
    }

    private static HealthVerdict WarmingUp(string evidence, long more)
        => new(HealthStatus.WarmingUp, "Too little evidence to judge yet: " + evidence,
            $"Keep serving and sending signals: about {N(more)} more rewarded decisions are needed; the verdict follows the evidence, not the calendar.");

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string P(double share) => double.IsFinite(share) ? share.ToString("0.0%", CultureInfo.InvariantCulture) : "n/a";

    private static string R(double value) => double.IsFinite(value) ? value.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";

    private static string S(double seconds) => seconds >= 3600 && seconds % 3600 == 0
        ? $"{(seconds / 3600).ToString(CultureInfo.InvariantCulture)} h"
        : $"{seconds.ToString(CultureInfo.InvariantCulture)} s";
}

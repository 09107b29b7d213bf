using System.CommandLine;
using System.Globalization;
using Flywheel.Core;

namespace Flywheel.Cli.Commands;

/// <summary><c>flywheel health LOOP [--json]</c>: is the wheel spinning? The verdict and the figures behind it, from a running server.</summary>
internal static class HealthCommand
{
    private const string CommandName = FlywheelCli.Name + " health";

    public static Command Create(CliContext context)
    {
        var loop = new Argument<string>("LOOP") { Description = "The loop id." };
        var json = new Option<bool>("--json") { Description = "Print the whole report as JSON, verdict included." };
        var server = ServerCommand.ServerOption();
        var key = ServerCommand.KeyOption();
        var command = new Command("health", "Print a loop's health: the verdict (spinning, no-signal, no-pipe, invisible, plateau, stale, warming-up) and the figures behind it.")
        {
            loop, json, server, key,
        };
        command.SetAction((parse, cancellationToken) => ServerCommand.RunAsync(context, CommandName, parse.GetValue(server), parse.GetValue(key), async client =>
        {
            var report = await client.GetHealthAsync(parse.GetRequiredValue(loop), cancellationToken);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(FlywheelJson.Serialize(report));
            }
            else
            {
                Write(context.Out, report);
            }
        }));
        return command;
    }

    /// <summary>The report as a person reads it: the verdict first, then one line per figure.</summary>
    internal static void Write(TextWriter o, HealthReport r)
    {
        o.WriteLine($"{r.Loop}: {LoopConfigJson.Name(r.Verdict.Status)}");
        o.WriteLine($"  {r.Verdict.Evidence}");
        o.WriteLine($"  advice: {r.Verdict.Advice}");
        o.WriteLine();
        var e = r.Evidence;
        o.WriteLine($"  evidence       {N(e.Decisions)} decisions, {N(e.Rewards)} rewarded, {N(e.Signals)} signals; {(e.DecisionsToJudge is { } w ? $"{N(w)} per window to see a {F(r.MinimumFeltEffect)} lift" : "no spread in rewards yet")}");
        var c = r.Capture;
        o.WriteLine($"  capture        {P(c.Rate.Value)} of the newest {N(c.Window.Decisions)} (implicit {P(c.Implicit.Value)}, explicit {P(c.Explicit.Value)}); {N(c.LateSignals)} late, {N(c.OrphanedSignals)} orphaned");
        o.WriteLine($"  fuel           {(r.Fuel.ExamplesPerHour is { } h ? F(h) : "n/a")} examples/hour, {F(r.Fuel.SignalsPerDecision)} signals/decision");
        o.WriteLine($"  pipe           {LoopConfigJson.Name(r.Pipe.Mode)}, model learned {N(r.Pipe.ModelExamples)} examples, {r.Pipe.Deployments} deployment(s) in the recent window");
        o.WriteLine($"  latency        {(r.Latency.Online is { } l ? $"online median {Seconds(l.MedianSeconds)}, p90 {Seconds(l.P90Seconds)} ({N(l.Samples)} signals)" : "online: none measured")}; {r.Latency.Turns.Count} turn(s) deployed");
        var curve = r.LearningCurve;
        o.WriteLine($"  learning curve {curve.Points.Count} points; " + (curve.Fit is { } fit
            ? $"loss = {F(fit.A)}·n^-{F(fit.B)} + {F(fit.C)}, doubling the data gains {F(curve.DoublingGain ?? 0)}{(curve.Plateau == true ? " (plateau)" : "")}"
            : "too few points to fit"));
        o.WriteLine($"  lift           " + (r.Lift.Learning is { } lift
            ? $"{F(lift.BeforeReward.Value)} → {F(lift.AfterReward.Value)} (Δ {F(lift.Difference.Value)}, 95% {F(lift.Difference.Lower)} to {F(lift.Difference.Upper)}) vs felt {F(r.MinimumFeltEffect)}"
            : "not enough rewards for two windows yet") + (r.Lift.Turns.Count == 0 ? "; no turn has deployed a model" : $"; turns: {string.Join(", ", r.Lift.Turns.Select(t => $"#{t.Turn} {t.Status}"))}"));
        var d = r.Staleness.Drift;
        o.WriteLine($"  staleness      reward PSI {(r.Staleness.RewardPsi is { } psi ? F(psi) : "n/a")}; Page-Hinkley alarms {N(d.Alarms)}{(d.Stale ? ", stale" : "")}"
            + (r.Staleness.FeaturePsi.Count > 0 ? $"; most moved: {r.Staleness.FeaturePsi[0].Feature} ({F(r.Staleness.FeaturePsi[0].Psi)})" : ""));
        var ret = r.Return;
        o.WriteLine($"  return         {N(ret.Users)} users; within 1 day {P(ret.Within1Day.Rate.Value)}, 7 days {P(ret.Within7Days.Rate.Value)}, 30 days {P(ret.Within30Days.Rate.Value)}");
        o.WriteLine($"  streaks        {string.Join(", ", ret.Streaks.Select(s => $"{s.Days}: {N(s.Users)}"))}");
        if (r.Learners is { } learners)
        {
            o.WriteLine($"  learners       {N(learners.Learners)} with {N(learners.Answers)} answers; success {P(learners.SuccessRate)} (recently {P(learners.RecentSuccess)}) vs target {P(learners.TargetSuccess)}; "
                + $"{N(learners.ActiveLast7Days)} active in 7 days; {N(learners.Streaking)} on a streak ({N(learners.AtRisk)} at risk, longest {learners.LongestStreak}); {N(learners.ReviewsDue)} reviews due");
        }
        if (r.Generation is { } g)
        {
            o.WriteLine($"  outputs        {N(g.Outputs)} stored, {N(g.Judged)} judged; edit distance {F(g.EditDistance.Value)} (95% {F(g.EditDistance.Lower)} to {F(g.EditDistance.Upper)}); "
                + $"kept unedited {P(g.KeptUnedited.Value)}; regenerated {P(g.Regenerated.Value)}");
            if (g.Periods.Count > 0)
            {
                o.WriteLine($"    over time    edit distance {string.Join(" → ", g.Periods.Select(p => F(p.EditDistance.Value)))}; kept {string.Join(" → ", g.Periods.Select(p => P(p.KeptUnedited.Value)))}");
            }
            foreach (var t in g.Turns)
            {
                o.WriteLine($"    v{t.Version,-3}{(t.Turn is { } n ? $" (turn #{n})" : ""),-12} {N(t.Window.Decisions)} judged; edit distance {F(t.EditDistance.Value)}, kept {P(t.KeptUnedited.Value)}"
                    + (t.EditDistanceChange is { } dd ? $"; Δ distance {F(dd.Value)} (95% {F(dd.Lower)} to {F(dd.Upper)})" : ""));
            }
        }
        if (r.PositionBias is { } bias)
        {
            o.WriteLine($"  position bias  {bias.PositionBias}; {N(bias.Interventions)} shuffled decisions; examination by slot (95% interval, weight used):");
            foreach (var slot in bias.Slots)
            {
                o.WriteLine($"    slot {slot.Slot,3}  {F(slot.Examination),6}  [{F(slot.Lower)}, {F(slot.Upper)}]  used {F(slot.Used)}  ({N(slot.Engaged)} of {N(slot.Decisions)} engaged)");
            }
        }
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double value) => double.IsFinite(value) ? value.ToString("0.###", CultureInfo.InvariantCulture) : "n/a";

    private static string P(double share) => double.IsFinite(share) ? share.ToString("0.0%", CultureInfo.InvariantCulture) : "n/a";

    private static string Seconds(double s) => s >= 3600 ? $"{F(s / 3600)} h" : s >= 60 ? $"{F(s / 60)} min" : $"{F(s)} s";
}

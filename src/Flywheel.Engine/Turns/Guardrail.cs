using System.Globalization;
using Flywheel.Core;
using Flywheel.Evaluation;
using Microsoft.Extensions.Logging;

namespace Flywheel.Engine;

/// <summary>
/// The guardrail: once a deployed champion has served <c>turns.minDecisions</c> rewarded decisions, its online reward
/// is compared with its predecessor's, and a champion that earns less with confidence is rolled back (a graduated
/// apprentice goes back to apprentice mode). Felt lift is recorded on the deploying ledger entry either way.
/// </summary>
internal sealed class Guardrail(TimeProvider time, IFlywheelStore store, ModelRegistry registry, Deployment deployment, ILogger logger, FlywheelMetrics metrics)
{
    /// <summary>
    /// Measures the online reward of a champion deployed by a ledger entry against its predecessor's once it has served
    /// <c>turns.minDecisions</c> rewarded decisions; rolls back when it is worse with confidence.
    /// </summary>
    public async Task CheckAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        // The deploy being watched is among the newest entries: a later deploy replaces it.
        var turns = await store.LoadLatestTurnsAsync(runtime.Id, 16, cancellationToken).ConfigureAwait(false);
        var entry = turns.LastOrDefault(t => t.DeployedVersion is not null);
        if (entry is null || entry.Lift is not null || entry.DeployedVersion != runtime.ModelVersion || entry.Window is null || entry.DeployedAt is null
            || entry.Verdict is not (TurnVerdict.Promoted or TurnVerdict.ManuallyPromoted or TurnVerdict.Graduated))
        {
            return;
        }
        var config = runtime.Config;
        var graduated = entry.Verdict == TurnVerdict.Graduated;
        if (graduated && config.Mode != LoopMode.Online)
        {
            return;
        }
        var predecessor = entry.ChampionVersion;
        var deployed = entry.DeployedVersion.Value;
        var deployedAt = entry.DeployedAt.Value;
        RunningMean before = default, afterDeploy = default;
        await foreach (var (decision, reward) in store.ReadRewardsAsync(runtime.Id, entry.Window.AfterSequence, cancellationToken).ConfigureAwait(false))
        {
            // Before: what the predecessor (or, for a graduation, the baseline) earned on the judged window, the same
            // evidence the turn was judged on; what it earned between the window's end and the deploy is left out, so the
            // comparison does not move with how long the turn took.
            if (reward.Sequence <= entry.Window.ThroughSequence && decision.ModelVersion == predecessor)
            {
                before.Add(reward.Reward);
            }
            else if (decision.ModelVersion == deployed && decision.At >= deployedAt)
            {
                afterDeploy.Add(reward.Reward);
            }
        }
        if (afterDeploy.Count < config.Turns.MinDecisions || before.Count < 2)
        {
            return;
        }
        var z = Estimate.ZFor(config.Turns.Confidence);
        var difference = afterDeploy.Mean - before.Mean;
        var half = z * Math.Sqrt(afterDeploy.Variance / afterDeploy.Count + before.Variance / before.Count);
        var lift = new OnlineLift
        {
            Version = deployed,
            PredecessorVersion = predecessor,
            Decisions = afterDeploy.Count,
            Mean = afterDeploy.Mean,
            PredecessorDecisions = before.Count,
            PredecessorMean = before.Mean,
            Difference = new Estimate(difference, difference - half, difference + half),
            Relative = before.Mean == 0 ? double.NaN : difference / Math.Abs(before.Mean),
            MeasuredAt = time.GetUtcNow(),
        };
        var measured = entry with { Lift = lift };
        if (!(lift.Difference.Upper < 0) || (DriftWatch.For(runtime).Last is { } change && change.ChangeSequence > entry.Window.AfterSequence))
        {
            // Not worse; or the reward dropped during or after the judged window: the predecessor's figures come from a
            // world that has changed, so the drop says nothing about the deployed model. The drift turn judges the models
            // on the new world.
            await store.SaveTurnAsync(measured, cancellationToken).ConfigureAwait(false);
            return;
        }
        // The measurement is committed with the rollback it causes: a crash in between would leave a measured deploy
        // that is never rolled back.
        if (graduated)
        {
            await RevertGraduationAsync(runtime, lift, measured, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var level = TurnJudge.Level(config.Turns);
            var why = string.Create(CultureInfo.InvariantCulture,
                $"guardrail: online reward {lift.Mean:F4} over {lift.Decisions} decisions is below v{predecessor}'s {lift.PredecessorMean:F4} over {lift.PredecessorDecisions}; difference {difference:F4}, {level} interval [{lift.Difference.Lower:F4}, {lift.Difference.Upper:F4}]");
            try
            {
                await deployment.RollbackAsync(runtime, TurnTrigger.Guardrail, why, lift, cancellationToken, measured).ConfigureAwait(false);
            }
            catch (FlywheelValidationException ex) when (ex.Kind == ValidationKind.Conflict)
            {
                // Nothing to roll back to: the measurement stands, so the guardrail does not try again at every check.
                await store.SaveTurnAsync(measured, cancellationToken).ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>A graduated loop that serves worse than its baseline did goes back to apprentice mode.</summary>
    private async Task RevertGraduationAsync(LoopRuntime runtime, OnlineLift lift, TurnRecord measured, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        var level = TurnJudge.Level(runtime.Config.Turns);
        var entry = new TurnRecord
        {
            Loop = runtime.Id,
            Number = await registry.NextTurnNumberAsync(runtime, cancellationToken).ConfigureAwait(false),
            Trigger = TurnTrigger.Guardrail,
            StartedAt = started,
            FinishedAt = started,
            ChampionVersion = runtime.ModelVersion,
            Verdict = TurnVerdict.RolledBack,
            Reason = string.Create(CultureInfo.InvariantCulture,
                $"guardrail: after graduating, online reward {lift.Mean:F4} over {lift.Decisions} decisions is below the baseline's {lift.PredecessorMean:F4} over {lift.PredecessorDecisions}; difference {lift.Difference.Value:F4}, {level} interval [{lift.Difference.Lower:F4}, {lift.Difference.Upper:F4}]; back to apprentice mode"),
            DeployedVersion = runtime.ModelVersion,
            DeployedAt = started,
            Lift = lift,
        };
        var change = new RegistryChange { Loop = runtime.Id };
        change.Turns.Add(measured);
        change.Turns.Add(entry);
        await deployment.SetModeAsync(runtime, LoopMode.Apprentice, cancellationToken, change).ConfigureAwait(false);
        metrics.TurnRecorded(runtime.Id, entry.Verdict);
        logger.LogRolledBack(runtime.Id, runtime.ModelVersion, runtime.ModelVersion, entry.Reason);
    }

    /// <summary>Welford's running mean and variance.</summary>
    private struct RunningMean
    {
        private double _m2;

        public long Count { get; private set; }

        public double Mean { get; private set; }

        public readonly double Variance => Count > 1 ? _m2 / (Count - 1) : 0;

        public void Add(double x)
        {
            Count++;
            var d = x - Mean;
            Mean += d / Count;
            _m2 += d * (x - Mean);
        }
    }
}

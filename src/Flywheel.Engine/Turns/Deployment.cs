using Flywheel.Core;
using Microsoft.Extensions.Logging;

namespace Flywheel.Engine;

/// <summary>
/// Changes which model serves: a deployment swaps the champion's learner and settings at once and keeps the old
/// champion's weights for a rollback; a rollback deploys the predecessor; a mode change graduates or demotes an
/// apprentice loop. Each one leaves the registry and the ledger complete.
/// </summary>
internal sealed class Deployment(TimeProvider time, IFlywheelStore store, LoopTable loops, LearnerHost learnerHost, ModelRegistry registry, ShadowService shadows, ILogger logger, FlywheelMetrics metrics)
{
    /// <summary>Puts the champion's predecessor back and writes the ledger entry; a 409 when there is none.</summary>
    public async Task<TurnRecord> RollbackAsync(LoopRuntime runtime, TurnTrigger trigger, string why, OnlineLift? lift, CancellationToken cancellationToken)
    {
        await registry.EnsureChampionRegisteredAsync(runtime, cancellationToken).ConfigureAwait(false);
        var models = await store.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
        var champion = models.First(m => m.Version == runtime.ModelVersion);
        var target = champion.ParentVersion is { } parent ? models.FirstOrDefault(m => m.Version == parent) : null;
        if (target is null || target.TrainedThrough is null)
        {
            throw new FlywheelValidationException("loop", $"the champion v{champion.Version} has no predecessor with stored weights to roll back to") { Kind = ValidationKind.Conflict };
        }
        var started = time.GetUtcNow();
        await DeployAsync(runtime, target, $"restored by rollback: {why}", $"rolled back to v{target.Version}: {why}", cancellationToken).ConfigureAwait(false);
        var entry = new TurnRecord
        {
            Loop = runtime.Id,
            Number = await registry.NextTurnNumberAsync(runtime, CancellationToken.None).ConfigureAwait(false),
            Trigger = trigger,
            StartedAt = started,
            FinishedAt = time.GetUtcNow(),
            ChampionVersion = champion.Version,
            Verdict = TurnVerdict.RolledBack,
            Reason = $"v{champion.Version} {why}; v{target.Version} serves again",
            DeployedVersion = target.Version,
            DeployedAt = time.GetUtcNow(),
            Lift = lift,
        };
        await store.SaveTurnAsync(entry, CancellationToken.None).ConfigureAwait(false);
        metrics.TurnRecorded(runtime.Id, entry.Verdict);
        logger.LogRolledBack(runtime.Id, champion.Version, target.Version, why);
        return entry;
    }

    /// <summary>
    /// Makes <paramref name="model"/> the champion: its weights (stored, trained through its position) catch up on the
    /// rewards learned since and replace the serving model and settings at once; the old champion's weights are kept
    /// for a rollback.
    /// </summary>
    public async Task DeployAsync(LoopRuntime runtime, ModelRecord model, string promotedReason, string retiredReason, CancellationToken cancellationToken)
    {
        var data = await store.LoadModelDataAsync(runtime.Id, model.Version, cancellationToken).ConfigureAwait(false);
        if (data is null || model.TrainedThrough is null)
        {
            throw new FlywheelValidationException("version", $"model version {model.Version} has no stored weights (only the latest turn's candidates and past champions keep theirs)") { Kind = ValidationKind.Conflict };
        }
        var learner = runtime.Kind.LoadLearner(data, model.Learner, model.Exploration);
        await loops.ConfigLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var previous = runtime.ModelVersion;
            var config = runtime.Config with { Learner = model.Learner, Exploration = model.Exploration };
            await store.SaveLoopAsync(config, cancellationToken).ConfigureAwait(false);
            // Once queued the swap happens whatever the caller does, so the registry and the ledger are written in full.
            var (oldData, oldThrough) = await learnerHost.SwapAsync(new LearnSwap(runtime, config, learner, model.TrainedThrough.Value, model.Version), cancellationToken).ConfigureAwait(false);
            var now = time.GetUtcNow();
            var models = await store.LoadModelsAsync(runtime.Id, CancellationToken.None).ConfigureAwait(false);
            if (models.FirstOrDefault(m => m.Version == previous) is { } old)
            {
                await store.SaveModelAsync(old with { Status = ModelStatus.Retired, StatusChangedAt = now, Reason = retiredReason, TrainedThrough = oldThrough }, CancellationToken.None).ConfigureAwait(false);
                await store.SaveModelDataAsync(runtime.Id, previous, oldData, CancellationToken.None).ConfigureAwait(false);
            }
            await store.SaveModelAsync(model with { Status = ModelStatus.Champion, StatusChangedAt = now, Reason = promotedReason }, CancellationToken.None).ConfigureAwait(false);
            if (model.Status == ModelStatus.Shadow)
            {
                await shadows.RefreshAsync(runtime, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            loops.ConfigLock.Release();
        }
    }

    /// <summary>Stores and serves the loop's config with another mode (graduation and its reversal).</summary>
    public async Task SetModeAsync(LoopRuntime runtime, LoopMode mode, CancellationToken cancellationToken)
    {
        await loops.ConfigLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var config = runtime.Config with { Mode = mode };
            await store.SaveLoopAsync(config, cancellationToken).ConfigureAwait(false);
            runtime.SwapConfig(config);
        }
        finally
        {
            loops.ConfigLock.Release();
        }
    }
}

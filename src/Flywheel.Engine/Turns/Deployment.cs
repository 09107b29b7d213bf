using Flywheel.Core;
using Microsoft.Extensions.Logging;

namespace Flywheel.Engine;

/// <summary>
/// Changes which model serves: a deployment swaps the champion's learner and settings at once and keeps the old
/// champion's weights for a rollback; a rollback deploys the champion that the serving one replaced; a mode change
/// graduates or demotes an apprentice loop. Each one commits the registry, the ledger entry, the loop settings and the
/// serving snapshot in one store transaction (<see cref="IFlywheelStore.CommitRegistryAsync"/>), and serves the change
/// only once it is durable, so a crash at any instant leaves them consistent.
/// </summary>
internal sealed class Deployment(TimeProvider time, IFlywheelStore store, LoopTable loops, LearnerHost learnerHost, ModelRegistry registry, ShadowService shadows, ILogger logger, FlywheelMetrics metrics)
{
    /// <summary>
    /// Puts back the champion that the serving one replaced (the previous champion in deployment order, as the ledger
    /// records it) and writes the ledger entry with it; a 409 when there is none or it kept no weights.
    /// <paramref name="measured"/>, the deploying entry with the guardrail's measurement, is written in the same transaction.
    /// </summary>
    public async Task<TurnRecord> RollbackAsync(LoopRuntime runtime, TurnTrigger trigger, string why, OnlineLift? lift, CancellationToken cancellationToken, TurnRecord? measured = null)
    {
        await registry.EnsureChampionRegisteredAsync(runtime, cancellationToken).ConfigureAwait(false);
        var models = await store.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
        var champion = models.First(m => m.Version == runtime.ModelVersion);
        var ledger = await store.LoadTurnsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
        var replaced = ModelRegistry.ReplacedChampion(ledger, champion.Version);
        if (replaced is null)
        {
            throw new FlywheelValidationException("loop", $"the champion v{champion.Version} has no predecessor with stored weights to roll back to: it replaced no earlier champion") { Kind = ValidationKind.Conflict };
        }
        var target = models.FirstOrDefault(m => m.Version == replaced);
        if (target?.TrainedThrough is null || await store.LoadModelDataAsync(runtime.Id, target.Version, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new FlywheelValidationException("loop", $"the champion v{champion.Version} has no predecessor with stored weights to roll back to: v{replaced}, the champion it replaced, has no stored weights") { Kind = ValidationKind.Conflict };
        }
        var started = time.GetUtcNow();
        var entry = new TurnRecord
        {
            Loop = runtime.Id,
            Number = await registry.NextTurnNumberAsync(runtime, cancellationToken).ConfigureAwait(false),
            Trigger = trigger,
            StartedAt = started,
            FinishedAt = started,
            ChampionVersion = champion.Version,
            Verdict = TurnVerdict.RolledBack,
            Reason = $"v{champion.Version} {why}; v{target.Version} serves again",
            DeployedVersion = target.Version,
            DeployedAt = started,
            Lift = lift,
        };
        var change = new RegistryChange { Loop = runtime.Id };
        if (measured is not null)
        {
            change.Turns.Add(measured);
        }
        change.Turns.Add(entry);
        await DeployAsync(runtime, target, $"restored by rollback: {why}", $"rolled back to v{target.Version}: {why}", change, cancellationToken).ConfigureAwait(false);
        metrics.TurnRecorded(runtime.Id, entry.Verdict);
        logger.LogRolledBack(runtime.Id, champion.Version, target.Version, why);
        return entry;
    }

    /// <summary>Deploys <paramref name="model"/> with nothing else in its registry change (tests, and callers without a ledger entry).</summary>
    public Task DeployAsync(LoopRuntime runtime, ModelRecord model, string promotedReason, string retiredReason, CancellationToken cancellationToken)
        => DeployAsync(runtime, model, promotedReason, retiredReason, new RegistryChange { Loop = runtime.Id }, cancellationToken);

    /// <summary>
    /// Makes <paramref name="model"/> the champion: its weights (stored, trained through its position) catch up on the
    /// rewards learned since; then <paramref name="change"/> (the caller's ledger entry and registrations), the retired
    /// champion with its weights and position, the new champion, the new settings and the new snapshot are committed in one
    /// transaction, and only then do the new learner and settings serve. When the commit fails nothing changes.
    /// </summary>
    public async Task DeployAsync(LoopRuntime runtime, ModelRecord model, string promotedReason, string retiredReason, RegistryChange change, CancellationToken cancellationToken)
    {
        var data = change.ModelData.TryGetValue(model.Version, out var fresh) && fresh is not null
            ? fresh
            : await store.LoadModelDataAsync(runtime.Id, model.Version, cancellationToken).ConfigureAwait(false);
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
            var models = await store.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
            var old = models.FirstOrDefault(m => m.Version == previous);
            var now = time.GetUtcNow();
            RegistryChange Complete(byte[] oldData, long oldThrough)
            {
                if (old is not null)
                {
                    change.Models.Add(old with { Status = ModelStatus.Retired, StatusChangedAt = now, Reason = retiredReason, TrainedThrough = oldThrough });
                    change.ModelData[previous] = oldData;
                }
                change.Models.Add(model with { Status = ModelStatus.Champion, StatusChangedAt = now, Reason = promotedReason });
                return change;
            }
            // Once queued the deployment happens whatever the caller does: the registry, the ledger and the settings are
            // committed together with the new snapshot, or not at all.
            await learnerHost.DeployAsync(new LearnDeploy(runtime, config, learner, model.TrainedThrough.Value, model.Version, Complete), cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// Stores and serves the loop's config with another mode (graduation and its reversal), committed in one transaction
    /// with <paramref name="change"/> (the ledger entry that explains it).
    /// </summary>
    public async Task SetModeAsync(LoopRuntime runtime, LoopMode mode, CancellationToken cancellationToken, RegistryChange? change = null)
    {
        await loops.ConfigLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var config = runtime.Config with { Mode = mode };
            change ??= new RegistryChange { Loop = runtime.Id };
            change.Config = config;
            await store.CommitRegistryAsync(change, cancellationToken).ConfigureAwait(false);
            runtime.SwapConfig(config);
        }
        finally
        {
            loops.ConfigLock.Release();
        }
    }
}

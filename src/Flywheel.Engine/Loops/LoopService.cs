using Flywheel.Core;
using Microsoft.Extensions.Logging;

namespace Flywheel.Engine;

/// <summary>
/// Loops as stored and as running: restores every stored loop at start-up, creates and updates loops, and reads a
/// decision back for the audit.
/// </summary>
internal sealed partial class LoopService(TimeProvider time, IFlywheelStore store, LoopTable loops, LearnerHost learner, ShadowService shadows, ILogger logger)
{
    /// <summary>Restores every stored loop: learner (snapshot plus replay), shadows and open windows.</summary>
    public async Task RestoreAllAsync(CancellationToken cancellationToken)
    {
        foreach (var config in await store.LoadLoopsAsync(cancellationToken).ConfigureAwait(false))
        {
            await ModelRegistry.ReconcileAsync(store, time, config.Id, cancellationToken).ConfigureAwait(false);
            var (runtime, through, replayed) = await learner.RestoreAsync(config, cancellationToken).ConfigureAwait(false);
            await shadows.RefreshAsync(runtime, cancellationToken).ConfigureAwait(false);
            var open = await Joiner.LoadAsync(store, runtime, cancellationToken).ConfigureAwait(false);
            LogLoopRestored(config.Id, runtime.ModelVersion, through, replayed, open);
            loops.Add(runtime);
        }
    }

    /// <summary>
    /// Stores a loop's config and serves it. New learner settings that the loop kind cannot carry on with start a new
    /// model version.
    /// </summary>
    public async ValueTask<LoopConfig> PutAsync(LoopConfig config, CancellationToken cancellationToken)
    {
        await loops.ConfigLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (loops.TryGet(config.Id) is not { } existing)
            {
                await store.SaveLoopAsync(config, cancellationToken).ConfigureAwait(false);
                loops.Add(new LoopRuntime(config, time.GetUtcNow()));
                return config;
            }
            if (existing.Config.Kind != config.Kind)
            {
                throw new FlywheelValidationException("kind",
                    $"loop '{config.Id}' is '{LoopConfigJson.Name(existing.Config.Kind)}'; a loop keeps its kind, whose decisions and models mean something else: create a new loop for '{LoopConfigJson.Name(config.Kind)}'")
                { Kind = ValidationKind.Conflict };
            }
            if (!existing.Kind.CanContinue(existing.Config, config))
            {
                // The new settings are stored with the new model's snapshot, in one transaction.
                config.Validate();
                await learner.ResetAsync(existing, config, cancellationToken).ConfigureAwait(false);
                return config;
            }
            await store.SaveLoopAsync(config, cancellationToken).ConfigureAwait(false);
            existing.SwapConfig(config);
            return config;
        }
        finally
        {
            loops.ConfigLock.Release();
        }
    }

    /// <summary>One decision with its signals and reward, or null.</summary>
    public async ValueTask<DecisionAudit?> GetDecisionAsync(LoopRuntime runtime, string decisionId, CancellationToken cancellationToken)
    {
        var record = await store.GetDecisionAsync(runtime.Id, decisionId, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return null;
        }
        return new DecisionAudit
        {
            Decision = record,
            Signals = await store.GetSignalsAsync(runtime.Id, decisionId, cancellationToken).ConfigureAwait(false),
            Reward = await store.GetRewardAsync(runtime.Id, decisionId, cancellationToken).ConfigureAwait(false),
            Output = runtime.Config.Generation is null ? null : await store.GetOutputAsync(runtime.Id, decisionId, cancellationToken).ConfigureAwait(false),
        };
    }

    /// <summary>Stored event counts of a loop.</summary>
    public ValueTask<LoopCounts> CountAsync(LoopRuntime runtime, CancellationToken cancellationToken) => store.CountAsync(runtime.Id, cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loop {Loop}: model v{Version} restored from snapshot through reward {Through}, {Replayed} rewards replayed, {Open} windows open.")]
    private partial void LogLoopRestored(string loop, int version, long through, long replayed, int open);
}

using System.Threading.Channels;
using Flywheel.Core;
using Flywheel.Learning;
using Microsoft.Extensions.Logging;

namespace Flywheel.Engine;

/// <summary>
/// The learner host (docs/architecture.md): one worker learns every closed reward in commit order and publishes one new serving
/// policy per touched loop, so deciders never wait for learning. It persists learner snapshots every
/// <see cref="FlywheelOptions.SnapshotEveryExamples"/> examples or <see cref="FlywheelOptions.SnapshotInterval"/>, and at
/// shutdown, and it swaps or resets a loop's learner when a deployment or a settings change asks.
/// </summary>
internal sealed partial class LearnerHost(FlywheelOptions options, TimeProvider time, IFlywheelStore store, LoopTable loops, ILogger logger, FlywheelMetrics metrics)
{
    private readonly Channel<LearnItem> _work = Channel.CreateBounded<LearnItem>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = false });
    private Task _worker = Task.CompletedTask;

    public void Start() => _worker = Task.Run(RunAsync, CancellationToken.None);

    /// <summary>Finishes the queued work, publishes and saves every loop's snapshot.</summary>
    public async Task StopAsync()
    {
        _work.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
    }

    /// <summary>Queues closed rewards, in commit order (called by the ingest writer).</summary>
    public ValueTask PostAsync(LearnItem item, CancellationToken cancellationToken = default) => _work.Writer.WriteAsync(item, cancellationToken);

    /// <summary>
    /// Builds a stored loop's runtime: its learner from the latest snapshot (when it fits the settings), then the rewards
    /// learned after it replayed; returns it with the snapshot's position and the number replayed.
    /// </summary>
    public async Task<(LoopRuntime Runtime, long SnapshotThrough, long Replayed)> RestoreAsync(LoopConfig config, CancellationToken cancellationToken)
    {
        var runtime = new LoopRuntime(config, time.GetUtcNow());
        var snapshot = await store.LoadSnapshotAsync(config.Id, cancellationToken).ConfigureAwait(false);
        if (snapshot is not null)
        {
            try
            {
                runtime.Learner = runtime.Kind.LoadLearner(snapshot.Data, config.Learner, config.Exploration);
                runtime.ModelVersion = snapshot.Version;
                runtime.LearnedThrough = snapshot.LearnedThrough;
            }
            catch (ModelSnapshotException ex)
            {
                // Weights rebuilt from the whole log are not the model that was serving: they get a version of their
                // own, above every registered one, so the registry never calls them by another model's name.
                var models = await store.LoadModelsAsync(config.Id, cancellationToken).ConfigureAwait(false);
                runtime.ModelVersion = Math.Max(snapshot.Version, models.Count == 0 ? 0 : models.Max(m => m.Version)) + 1;
                LogSnapshotRejected(config.Id, ex.Message, runtime.ModelVersion);
            }
        }
        var snapshotThrough = runtime.LearnedThrough; // 0 when there was no snapshot or it was rejected
        long replayed = 0;
        await foreach (var (decision, reward) in store.ReadRewardsAsync(config.Id, runtime.LearnedThrough, cancellationToken).ConfigureAwait(false))
        {
            Learn(runtime, decision, reward);
            replayed++;
        }
        runtime.Publish();
        runtime.LastSnapshotAt = time.GetUtcNow();
        runtime.ExamplesSinceSnapshot = replayed;
        runtime.Dirty = replayed > 0;
        return (runtime, snapshotThrough, replayed);
    }

    /// <summary>
    /// Starts a fresh model version for new learner settings, storing the settings and the new model's snapshot in one
    /// transaction; returns once it serves.
    /// </summary>
    public async Task ResetAsync(LoopRuntime loop, LoopConfig config, CancellationToken cancellationToken)
    {
        var reset = new LearnReset(loop, config);
        await _work.Writer.WriteAsync(reset, cancellationToken).ConfigureAwait(false);
        await reset.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Replaces the champion's learner and commits the registry change with the new learner's snapshot in one store
    /// transaction; the new model serves only once that is durable, and when the commit fails nothing changes. Once
    /// queued the deployment happens whatever the caller does, so this waits for it without a token.
    /// </summary>
    public async Task DeployAsync(LearnDeploy deploy, CancellationToken cancellationToken)
    {
        await _work.Writer.WriteAsync(deploy, cancellationToken).ConfigureAwait(false);
        await deploy.Done.Task.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var reader = _work.Reader;
        var touched = new HashSet<LoopRuntime>();
        var unpublished = new HashSet<LoopRuntime>();
        var flushes = new List<TaskCompletionSource>();
        var lastPublish = time.GetTimestamp();
        Task<bool>? waiting = null;
        while (true)
        {
            // Wait for work; while a model is learned but not yet published, wait no longer than the publish interval.
            waiting ??= reader.WaitToReadAsync().AsTask();
            if (!waiting.IsCompleted)
            {
                if (unpublished.Count == 0)
                {
                    await Task.WhenAny(waiting).ConfigureAwait(false);
                }
                else
                {
                    var remaining = options.PublishInterval - time.GetElapsedTime(lastPublish);
                    if (remaining > TimeSpan.Zero)
                    {
                        using var cancel = new CancellationTokenSource();
                        await Task.WhenAny(waiting, Task.Delay(remaining, time, cancel.Token)).ConfigureAwait(false);
                        await cancel.CancelAsync().ConfigureAwait(false);
                    }
                }
            }
            if (waiting.IsCompleted)
            {
                if (!await waiting.ConfigureAwait(false))
                {
                    break;
                }
                waiting = null;
            }
            while (reader.TryRead(out var item))
            {
                switch (item)
                {
                    case LearnBatch batch:
                        foreach (var (loop, pending, reward) in batch.Examples)
                        {
                            // Only a learning loop needs the features back; a frozen one just records the position.
                            var learns = loop.Config.Mode != LoopMode.Frozen;
                            Learn(loop, learns ? pending.Restore() : pending.Record, reward);
                            if (learns)
                            {
                                metrics.Learned(loop.Id);
                            }
                            touched.Add(loop);
                        }
                        break;
                    case LearnReset reset:
                        if (await ResetLearnerAsync(reset).ConfigureAwait(false))
                        {
                            unpublished.Remove(reset.Loop);
                        }
                        break;
                    case LearnDeploy deploy:
                        if (await DeployLearnerAsync(deploy).ConfigureAwait(false))
                        {
                            unpublished.Remove(deploy.Loop);
                        }
                        break;
                    case LearnFlush flush:
                        flushes.Add(flush.Done);
                        break;
                }
            }
            unpublished.UnionWith(touched);
            // Copying a weight table costs ~0.1 ms per MiB, so publish at most every PublishInterval, or at once for a flush.
            if (unpublished.Count > 0 && (flushes.Count > 0 || time.GetElapsedTime(lastPublish) >= options.PublishInterval))
            {
                foreach (var loop in unpublished)
                {
                    loop.Publish();
                }
                unpublished.Clear();
                lastPublish = time.GetTimestamp();
            }
            else if (flushes.Count > 0)
            {
                // A flush leaves the serving model current as of now, so the publish interval counts from here: on a fake
                // clock, what is published next (and so what every later decision sees) depends only on the clock.
                lastPublish = time.GetTimestamp();
            }
            var now = time.GetUtcNow();
            foreach (var loop in touched)
            {
                if (loop.ExamplesSinceSnapshot >= options.SnapshotEveryExamples
                    || (loop.Dirty && now - loop.LastSnapshotAt >= options.SnapshotInterval))
                {
                    await SaveSnapshotAsync(loop).ConfigureAwait(false);
                }
            }
            touched.Clear();
            foreach (var done in flushes)
            {
                done.TrySetResult();
            }
            flushes.Clear();
        }
        foreach (var loop in unpublished)
        {
            loop.Publish();
        }
        foreach (var loop in loops.All().Where(l => l.Dirty))
        {
            await SaveSnapshotAsync(loop).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs on the worker: a fresh learner for the new settings gets a version above every registered one; the settings
    /// and its snapshot are committed in one transaction, and only then do they serve together. False (and the old
    /// learner and settings keep serving) when the commit failed.
    /// </summary>
    private async Task<bool> ResetLearnerAsync(LearnReset reset)
    {
        var loop = reset.Loop;
        try
        {
            var learner = loop.Kind.CreateLearner(reset.Config.Learner, reset.Config.Exploration);
            var models = await store.LoadModelsAsync(loop.Id).ConfigureAwait(false);
            var version = Math.Max(loop.ModelVersion, models.Count == 0 ? 0 : models.Max(m => m.Version)) + 1;
            var now = time.GetUtcNow();
            await store.CommitRegistryAsync(new RegistryChange
            {
                Loop = loop.Id,
                Config = reset.Config,
                Snapshot = new ModelSnapshotRecord { Loop = loop.Id, Version = version, LearnedThrough = loop.LearnedThrough, CreatedAt = now, Data = learner.Save() },
            }).ConfigureAwait(false);
            loop.Learner = learner;
            loop.ModelVersion = version;
            // The new settings and the learner built for them reach deciders together.
            loop.SwapServing(reset.Config, learner.Publish(version, loop.Serving.Policy));
            loop.Dirty = false;
            loop.ExamplesSinceSnapshot = 0;
            loop.LastSnapshotAt = now;
            reset.Done.TrySetResult();
            return true;
        }
        catch (Exception ex)
        {
            reset.Done.TrySetException(ex);
            return false;
        }
    }

    /// <summary>
    /// Runs on the worker: the new learner learns what the old one learned after the new one's position; the registry
    /// change and the new learner's snapshot are committed in one transaction; then the new learner replaces the old one
    /// and the new settings and policy are published together. False (and the old learner keeps serving) when the
    /// commit failed.
    /// </summary>
    private async Task<bool> DeployLearnerAsync(LearnDeploy deploy)
    {
        var loop = deploy.Loop;
        try
        {
            var oldData = loop.Learner.Save();
            var oldThrough = loop.LearnedThrough;
            if (deploy.LearnedThrough < loop.LearnedThrough)
            {
                await foreach (var (decision, reward) in store.ReadRewardsAsync(loop.Id, deploy.LearnedThrough).ConfigureAwait(false))
                {
                    if (reward.Sequence > loop.LearnedThrough)
                    {
                        break;
                    }
                    deploy.Learner.Learn(decision, reward, deploy.Config);
                }
            }
            var change = deploy.Change(oldData, oldThrough);
            var now = time.GetUtcNow();
            change.Config = deploy.Config;
            change.Snapshot = new ModelSnapshotRecord
            {
                Loop = loop.Id,
                Version = deploy.Version,
                LearnedThrough = loop.LearnedThrough,
                CreatedAt = now,
                Data = deploy.Learner.Save(),
            };
            await store.CommitRegistryAsync(change).ConfigureAwait(false);
            loop.Learner = deploy.Learner;
            loop.ModelVersion = deploy.Version;
            loop.SwapServing(deploy.Config, deploy.Learner.Publish(deploy.Version));
            loop.Dirty = false;
            loop.ExamplesSinceSnapshot = 0;
            loop.LastSnapshotAt = now;
            deploy.Done.TrySetResult();
            return true;
        }
        catch (Exception ex)
        {
            deploy.Done.TrySetException(ex);
            return false;
        }
    }

    /// <summary>One online update from a closed reward. Frozen loops record the position but never learn.</summary>
    private static void Learn(LoopRuntime loop, DecisionRecord decision, RewardRecord reward)
    {
        loop.LearnedThrough = reward.Sequence;
        loop.Dirty = true;
        loop.ExamplesSinceSnapshot++;
        if (loop.Config.Mode == LoopMode.Frozen)
        {
            return;
        }
        loop.Learner.Learn(decision, reward, loop.Config);
        // The reward stream in learning order is what the drift watch reads; its alarm makes the turn runner turn early.
        if (DriftWatch.For(loop).Observe(reward.Sequence, reward.Reward, loop.Config.Reward, decision.ModelVersion, loop.ModelVersion, decision.At, reward.ClosedAt) is not null)
        {
            // The world changed under the model: it starts afresh, learning and exploring as a new model does, so it
            // finds what is best now. A learner whose adaptive rates have shrunk over a long history barely moves, and
            // one that kept its old weights keeps serving what used to be best until exploration proves otherwise.
            loop.Learner.Refresh(keepWeights: false);
        }
    }

    private async Task SaveSnapshotAsync(LoopRuntime loop)
    {
        try
        {
            await store.SaveSnapshotAsync(new ModelSnapshotRecord
            {
                Loop = loop.Id,
                Version = loop.ModelVersion,
                LearnedThrough = loop.LearnedThrough,
                CreatedAt = time.GetUtcNow(),
                Data = loop.Learner.Save(),
            }).ConfigureAwait(false);
            loop.Dirty = false;
            loop.ExamplesSinceSnapshot = 0;
            loop.LastSnapshotAt = time.GetUtcNow();
        }
        catch (Exception ex)
        {
            LogSnapshotFailed(ex, loop.Id);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Loop {Loop}: stored model snapshot rejected ({Reason}); rebuilding from the reward log as v{Version}.")]
    private partial void LogSnapshotRejected(string loop, string reason, int version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Saving the model snapshot of loop {Loop} failed; it will be retried.")]
    private partial void LogSnapshotFailed(Exception exception, string loop);
}

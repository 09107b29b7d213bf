using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Engine;

public sealed partial class FlywheelEngine
{
    /// <summary>
    /// Learns every closed reward in commit order, then publishes one new serving snapshot per touched loop, so
    /// deciders never wait for learning. Persists learner snapshots every <see cref="FlywheelOptions.SnapshotEveryExamples"/>
    /// examples or <see cref="FlywheelOptions.SnapshotInterval"/>, and at shutdown.
    /// </summary>
    private async Task LearnerLoopAsync()
    {
        var reader = _learn.Reader;
        var touched = new HashSet<LoopRuntime>();
        var unpublished = new HashSet<LoopRuntime>();
        var flushes = new List<TaskCompletionSource>();
        var lastPublish = _time.GetTimestamp();
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
                    var remaining = _options.PublishInterval - _time.GetElapsedTime(lastPublish);
                    if (remaining > TimeSpan.Zero)
                    {
                        using var cancel = new CancellationTokenSource();
                        await Task.WhenAny(waiting, Task.Delay(remaining, _time, cancel.Token)).ConfigureAwait(false);
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
                            Learn(loop, loop.Config.Mode != LoopMode.Frozen ? pending.Restore() : pending.Record, reward);
                            touched.Add(loop);
                        }
                        break;
                    case LearnReset reset:
                        var r = reset.Loop;
                        r.Learner = BanditLearner.For(reset.Config.Learner, reset.Config.Exploration);
                        r.LearnFeaturizer = new Featurizer(reset.Config.Learner);
                        r.ModelVersion++;
                        r.SwapModel(r.Learner.ToServingModel(r.ModelVersion), reset.Config.Learner);
                        unpublished.Remove(r);
                        await SaveSnapshotAsync(r).ConfigureAwait(false);
                        reset.Done.TrySetResult();
                        break;
                    case LearnSwap swap:
                        await SwapLearnerAsync(swap).ConfigureAwait(false);
                        unpublished.Remove(swap.Loop);
                        break;
                    case LearnFlush flush:
                        flushes.Add(flush.Done);
                        break;
                }
            }
            unpublished.UnionWith(touched);
            // Copying a weight table costs ~0.1 ms per MiB, so publish at most every PublishInterval, or at once for a flush.
            if (unpublished.Count > 0 && (flushes.Count > 0 || _time.GetElapsedTime(lastPublish) >= _options.PublishInterval))
            {
                foreach (var loop in unpublished)
                {
                    loop.SwapModel(loop.Learner.ToServingModel(loop.ModelVersion), loop.Learner.Config);
                }
                unpublished.Clear();
                lastPublish = _time.GetTimestamp();
            }
            else if (flushes.Count > 0)
            {
                // A flush leaves the serving model current as of now, so the publish interval counts from here: on a fake
                // clock, what is published next (and so what every later decision sees) depends only on the clock.
                lastPublish = _time.GetTimestamp();
            }
            var now = _time.GetUtcNow();
            foreach (var loop in touched)
            {
                if (loop.ExamplesSinceSnapshot >= _options.SnapshotEveryExamples
                    || (loop.Dirty && now - loop.LastSnapshotAt >= _options.SnapshotInterval))
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
            loop.SwapModel(loop.Learner.ToServingModel(loop.ModelVersion), loop.Learner.Config);
        }

        List<LoopRuntime> loops;
        lock (_loopsLock)
        {
            loops = [.. _loops.Values];
        }
        foreach (var loop in loops.Where(l => l.Dirty))
        {
            await SaveSnapshotAsync(loop).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs on the learner worker: the new learner learns what the old one learned after the new one's position, then
    /// replaces it, and the new settings and model are published together.
    /// </summary>
    private async Task SwapLearnerAsync(LearnSwap swap)
    {
        var loop = swap.Loop;
        try
        {
            var old = (ModelSnapshot.Save(loop.Learner), loop.LearnedThrough);
            var featurizer = new Featurizer(swap.Config.Learner);
            var vector = new FeatureVector();
            if (swap.LearnedThrough < loop.LearnedThrough)
            {
                await foreach (var (decision, reward) in _store!.ReadRewardsAsync(loop.Id, swap.LearnedThrough).ConfigureAwait(false))
                {
                    if (reward.Sequence > loop.LearnedThrough)
                    {
                        break;
                    }
                    LearnInto(swap.Learner, featurizer, vector, swap.Config, decision, reward);
                }
            }
            loop.Learner = swap.Learner;
            loop.LearnFeaturizer = featurizer;
            loop.ModelVersion = swap.Version;
            loop.SwapServing(swap.Config, swap.Learner.ToServingModel(swap.Version));
            await SaveSnapshotAsync(loop).ConfigureAwait(false);
            swap.Done.TrySetResult(old);
        }
        catch (Exception ex)
        {
            swap.Done.TrySetException(ex);
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
        LearnInto(loop.Learner, loop.LearnFeaturizer, loop.LearnFeatures, loop.Config, decision, reward);
    }

    /// <summary>One update of <paramref name="learner"/> from a stored decision and its reward.</summary>
    private static void LearnInto(BanditLearner learner, Featurizer featurizer, FeatureVector vector, LoopConfig config, DecisionRecord decision, RewardRecord reward)
    {
        var chosen = -1;
        for (var i = 0; i < decision.Actions.Count; i++)
        {
            if (decision.Actions[i].Id == decision.ChosenActionId)
            {
                chosen = i;
                break;
            }
        }
        if (chosen < 0)
        {
            return;
        }
        // The exploration may have changed since the learner was built; its weights stay valid, its weighting follows.
        learner.Unweighted = config.Exploration.Algorithm == ExplorationAlgorithm.SquareCb;
        vector.Clear();
        featurizer.SetContext(HashedFeatureSet.FromContext(decision.Context));
        if (learner.Config.Reduction is Reduction.Ips or Reduction.Dr)
        {
            // IPS and DR move every action towards its cost-sensitive target, so they need them all.
            foreach (var action in decision.Actions)
            {
                featurizer.AddAction(HashedFeatureSet.FromAction(action), vector);
            }
            learner.Learn(vector, chosen, (float)-reward.Reward, decision.ChosenProbability);
            return;
        }
        featurizer.AddAction(HashedFeatureSet.FromAction(decision.Actions[chosen]), vector);
        learner.Learn(vector.Indices(0), vector.Values(0), (float)-reward.Reward, decision.ChosenProbability, decision.Actions.Count);
    }

    private async Task SaveSnapshotAsync(LoopRuntime loop)
    {
        try
        {
            await _store!.SaveSnapshotAsync(new ModelSnapshotRecord
            {
                Loop = loop.Id,
                Version = loop.ModelVersion,
                LearnedThrough = loop.LearnedThrough,
                CreatedAt = _time.GetUtcNow(),
                Data = ModelSnapshot.Save(loop.Learner),
            }).ConfigureAwait(false);
            loop.Dirty = false;
            loop.ExamplesSinceSnapshot = 0;
            loop.LastSnapshotAt = _time.GetUtcNow();
        }
        catch (Exception ex)
        {
            LogSnapshotFailed(ex, loop.Id);
        }
    }
}

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
        var flushes = new List<TaskCompletionSource>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                switch (item)
                {
                    case LearnBatch batch:
                        foreach (var (loop, decision, reward) in batch.Examples)
                        {
                            Learn(loop, decision, reward);
                            touched.Add(loop);
                        }
                        break;
                    case LearnReset reset:
                        var r = reset.Loop;
                        r.Learner = BanditLearner.For(reset.Config.Learner, reset.Config.Exploration);
                        r.LearnFeaturizer = new Featurizer(reset.Config.Learner);
                        r.ModelVersion++;
                        r.SwapModel(r.Learner.ToServingModel(r.ModelVersion), reset.Config.Learner);
                        await SaveSnapshotAsync(r).ConfigureAwait(false);
                        reset.Done.TrySetResult();
                        break;
                    case LearnFlush flush:
                        flushes.Add(flush.Done);
                        break;
                }
            }
            var now = _time.GetUtcNow();
            foreach (var loop in touched)
            {
                loop.SwapModel(loop.Learner.ToServingModel(loop.ModelVersion), loop.Learner.Config);
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

    /// <summary>One online update from a closed reward. Frozen loops record the position but never learn.</summary>
    private static void Learn(LoopRuntime loop, DecisionRecord decision, RewardRecord reward)
    {
        loop.LearnedThrough = reward.Sequence;
        loop.Dirty = true;
        loop.ExamplesSinceSnapshot++;
        if (loop.Config.Mode != LoopMode.Online)
        {
            return;
        }
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
        loop.Learner.Unweighted = loop.Config.Exploration.Algorithm == ExplorationAlgorithm.SquareCb;
        var featurizer = loop.LearnFeaturizer;
        var vector = loop.LearnFeatures;
        vector.Clear();
        featurizer.SetContext(HashedFeatureSet.FromContext(decision.Context));
        if (loop.Learner.Config.Reduction is Reduction.Ips or Reduction.Dr)
        {
            // IPS and DR move every action towards its cost-sensitive target, so they need them all.
            foreach (var action in decision.Actions)
            {
                featurizer.AddAction(HashedFeatureSet.FromAction(action), vector);
            }
            loop.Learner.Learn(vector, chosen, (float)-reward.Reward, decision.ChosenProbability);
            return;
        }
        featurizer.AddAction(HashedFeatureSet.FromAction(decision.Actions[chosen]), vector);
        loop.Learner.Learn(vector.Indices(0), vector.Values(0), (float)-reward.Reward, decision.ChosenProbability, decision.Actions.Count);
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

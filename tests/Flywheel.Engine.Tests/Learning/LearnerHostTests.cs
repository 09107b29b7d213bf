using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Engine.Tests.Learning;

public sealed class LearnerHostTests
{
    private const string Loop = "home-feed";
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>
    /// One decision whose window a <c>skip</c> closes at once (after <paramref name="types"/>), then a flush, so the
    /// reward is learned (and any snapshot written) before this returns.
    /// </summary>
    private static async Task RewardAsync(ComponentRig rig, LoopRuntime loop, string decisionId, params string[] types)
    {
        await rig.Parts.Decider.DecideAsync(loop, TestEngine.Request(decisionId), None);
        var signals = types.Append("skip").Select(t => new SignalInput { DecisionId = decisionId, Type = t }).ToList();
        await rig.Parts.Ingest.RecordSignalsAsync(loop, signals, None);
        await rig.Parts.Ingest.FlushAsync(None);
    }

    private static async Task RewardsAsync(ComponentRig rig, LoopRuntime loop, int count)
    {
        for (var i = 1; i <= count; i++)
        {
            // Vary the reward so the learner's weights depend on what it learned.
            await RewardAsync(rig, loop, $"d{i}", i % 2 == 0 ? "thumbs_up" : "thumbs_down");
        }
    }

    /// <summary>A fresh learner of <paramref name="config"/> taught every stored reward after <paramref name="after"/>, in order.</summary>
    private static async Task<ILoopLearner> ReferenceAsync(IFlywheelStore store, LoopConfig config, long after)
    {
        var learner = LoopKinds.For(config).CreateLearner(config.Learner, config.Exploration);
        await foreach (var (decision, reward) in store.ReadRewardsAsync(config.Id, after))
        {
            learner.Learn(decision, reward.Reward, config.Exploration);
        }
        return learner;
    }

    private static LoopConfig SlowerLearner(LoopConfig config) => config with { Learner = config.Learner with { LearningRate = 0.1 } };

    [Fact]
    public async Task Learn_ClosedRewards_LearnedInOrderAndPublishedByFlush()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());

        await RewardsAsync(rig, loop, 3);

        Assert.Equal(3, loop.LearnedThrough);
        Assert.Equal(3, loop.Learner.Examples);
        Assert.Equal(3, loop.Serving.Policy.Examples);
        Assert.Equal((await ReferenceAsync(rig.Store, loop.Config, 0)).Save(), loop.Learner.Save());
    }

    [Fact]
    public async Task Learn_FrozenLoop_RecordsThePositionButNeverLearns()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop() with { Mode = LoopMode.Frozen });

        await RewardsAsync(rig, loop, 2);

        Assert.Equal(2, loop.LearnedThrough);
        Assert.Equal(0, loop.Learner.Examples);
    }

    [Fact]
    public async Task Snapshot_EverySnapshotEveryExamples_WrittenAtThatCount()
    {
        await using var rig = await ComponentRig.OpenAsync(o => o.SnapshotEveryExamples = 2);
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var through = new List<long?>();
        for (var i = 1; i <= 5; i++)
        {
            await RewardAsync(rig, loop, $"d{i}", "thumbs_up");
            var snapshot = await rig.Store.LoadSnapshotAsync(Loop);
            through.Add(snapshot?.LearnedThrough);
            if (snapshot?.LearnedThrough == i)
            {
                // A snapshot holds the learner as it was at its position.
                Assert.Equal(loop.Learner.Save(), snapshot.Data);
                Assert.Equal(1, snapshot.Version);
            }
        }

        Assert.Equal([null, 2L, 2L, 4L, 4L], through);
    }

    [Fact]
    public async Task Snapshot_SnapshotIntervalPassedWhileLearning_WrittenBeforeTheCount()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await RewardAsync(rig, loop, "d1");
        Assert.Null(await rig.Store.LoadSnapshotAsync(Loop));

        rig.Time.Advance(rig.Options.SnapshotInterval);
        await RewardAsync(rig, loop, "d2");

        Assert.Equal(2, (await rig.Store.LoadSnapshotAsync(Loop))?.LearnedThrough);
        Assert.False(loop.Dirty);
    }

    [Fact]
    public async Task RestoreAsync_SnapshotAndLaterRewards_RebuildsTheLiveLearner()
    {
        await using var rig = await ComponentRig.OpenAsync(o => o.SnapshotEveryExamples = 2);
        var live = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await RewardsAsync(rig, live, 3);

        var (restored, snapshotThrough, replayed) = await rig.Parts.Learner.RestoreAsync(live.Config, None);

        Assert.Equal((2L, 1L), (snapshotThrough, replayed));
        Assert.Equal(3, restored.LearnedThrough);
        Assert.Equal(live.Learner.Save(), restored.Learner.Save());
        Assert.Equal(3, restored.Serving.Policy.Examples);
        Assert.Equal(Decider.Score(live.Serving, TestEngine.Request().Context, TestEngine.Request().Actions), Decider.Score(restored.Serving, TestEngine.Request().Context, TestEngine.Request().Actions));
        // The replayed reward is not in a snapshot yet.
        Assert.True(restored.Dirty);
        Assert.Equal(1, restored.ExamplesSinceSnapshot);
    }

    [Fact]
    public async Task RestoreAsync_NoSnapshot_ReplaysEveryReward()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var live = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await RewardsAsync(rig, live, 3);
        Assert.Null(await rig.Store.LoadSnapshotAsync(Loop));

        var (restored, snapshotThrough, replayed) = await rig.Parts.Learner.RestoreAsync(live.Config, None);

        Assert.Equal((0L, 3L), (snapshotThrough, replayed));
        Assert.Equal(live.Learner.Save(), restored.Learner.Save());
        Assert.Equal(1, restored.ModelVersion);
    }

    [Fact]
    public async Task RestoreAsync_CorruptSnapshot_StartsFreshAndReplaysEveryReward()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var live = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await RewardsAsync(rig, live, 3);
        var data = live.Learner.Save();
        data[data.Length / 2] ^= 0xFF;
        await rig.Store.SaveSnapshotAsync(new ModelSnapshotRecord { Loop = Loop, Version = 4, LearnedThrough = 2, CreatedAt = rig.Time.GetUtcNow(), Data = data });

        var (restored, snapshotThrough, replayed) = await rig.Parts.Learner.RestoreAsync(live.Config, None);

        Assert.Equal(0, snapshotThrough); // the rejected snapshot's position is not reported as restored
        Assert.Equal(3, replayed);
        Assert.Equal(3, restored.LearnedThrough);
        Assert.Equal(5, restored.ModelVersion); // rebuilt weights are a model of their own, above the rejected v4
        Assert.Equal(live.Learner.Save(), restored.Learner.Save());
    }

    [Fact]
    public async Task RestoreAsync_SnapshotOfOtherLearnerSettings_IsRejectedForAFreshLearner()
    {
        await using var rig = await ComponentRig.OpenAsync(o => o.SnapshotEveryExamples = 2);
        var live = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await RewardsAsync(rig, live, 3);
        var other = SlowerLearner(live.Config);

        var (restored, snapshotThrough, replayed) = await rig.Parts.Learner.RestoreAsync(other, None);

        Assert.Equal(0, snapshotThrough);
        Assert.Equal(3, replayed);
        Assert.Equal(3, restored.LearnedThrough);
        Assert.Equal((await ReferenceAsync(rig.Store, other, 0)).Save(), restored.Learner.Save());
    }

    [Fact]
    public async Task StopAsync_UnsavedLearning_SavesAFinalSnapshot()
    {
        using var dir = new TempDirectory();
        byte[] learned;
        await using (var rig = await ComponentRig.OpenAsync(directory: dir))
        {
            var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
            await rig.PutLoopAsync(TestEngine.FeedLoop("idle"));
            await RewardsAsync(rig, loop, 2);
            Assert.Null(await rig.Store.LoadSnapshotAsync(Loop));
            learned = loop.Learner.Save();
            await rig.StopAsync();
        }

        await using var reopened = await ComponentRig.OpenAsync(start: false, directory: dir);
        var snapshot = await reopened.Store.LoadSnapshotAsync(Loop);
        Assert.NotNull(snapshot);
        Assert.Equal(2, snapshot.LearnedThrough);
        Assert.Equal(learned, snapshot.Data);
        // A loop that learned nothing has nothing to save.
        Assert.Null(await reopened.Store.LoadSnapshotAsync("idle"));
    }

    [Fact]
    public async Task ResetAsync_NewSettings_ServesAFreshVersionFromTheSamePosition()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await RewardsAsync(rig, loop, 3);
        var config = SlowerLearner(loop.Config);

        await rig.Parts.Learner.ResetAsync(loop, config, None);

        // The new settings are served with the new learner's first policy, never the new policy with the old settings.
        Assert.Same(config, loop.Serving.Config);
        Assert.Equal(2, loop.ModelVersion);
        Assert.Equal(2, loop.Serving.Policy.Version);
        Assert.Equal(0, loop.Serving.Policy.Examples);
        Assert.Equal(loop.Kind.CreateLearner(config.Learner, config.Exploration).Save(), loop.Learner.Save());
        Assert.Equal(3, loop.LearnedThrough);
        var snapshot = await rig.Store.LoadSnapshotAsync(Loop);
        Assert.Equal((2, 3L), (snapshot!.Version, snapshot.LearnedThrough));
        Assert.Equal(loop.Learner.Save(), snapshot.Data);
    }

    [Fact]
    public async Task DeployAsync_BehindLearner_CatchesUpThenServesAsTheNewVersion()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await RewardsAsync(rig, loop, 3);
        var config = SlowerLearner(loop.Config);
        var old = loop.Learner.Save();
        var candidate = await ReferenceAsync(rig.Store, config, 0);
        // The candidate learned reward 1 only; the swap must teach it 2 and 3.
        var behind = loop.Kind.CreateLearner(config.Learner, config.Exploration);
        await foreach (var (decision, reward) in rig.Store.ReadRewardsAsync(Loop, 0))
        {
            behind.Learn(decision, reward.Reward, config.Exploration);
            break;
        }

        (byte[] Data, long Through) replaced = default;
        await rig.Parts.Learner.DeployAsync(new LearnDeploy(loop, config, behind, 1, 5, (data, through) =>
        {
            replaced = (data, through);
            return new RegistryChange { Loop = Loop };
        }), None);
        var (data, learnedThrough) = replaced;

        Assert.Equal(old, data);
        Assert.Equal(3, learnedThrough);
        Assert.Same(behind, loop.Learner);
        Assert.Equal(candidate.Save(), behind.Save());
        Assert.Equal(5, loop.ModelVersion);
        Assert.Same(config, loop.Config);
        Assert.Equal((5, 3L), (loop.Serving.Policy.Version, loop.Serving.Policy.Examples));
        var snapshot = await rig.Store.LoadSnapshotAsync(Loop);
        Assert.Equal((5, 3L), (snapshot!.Version, snapshot.LearnedThrough));

        // The new champion goes on learning live.
        await RewardAsync(rig, loop, "after-swap");
        Assert.Equal(4, behind.Examples);
        Assert.Equal(4, loop.LearnedThrough);
    }

    [Fact]
    public async Task DeployAsync_LearnerAlreadyCurrent_LearnsNothingMore()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await RewardsAsync(rig, loop, 2);
        var current = await ReferenceAsync(rig.Store, loop.Config, 0);
        var expected = current.Save();

        long learnedThrough = -1;
        await rig.Parts.Learner.DeployAsync(new LearnDeploy(loop, loop.Config, current, 2, 2, (_, through) =>
        {
            learnedThrough = through;
            return new RegistryChange { Loop = Loop };
        }), None);

        Assert.Equal(2, learnedThrough);
        Assert.Equal(expected, current.Save());
        Assert.Equal(2, loop.ModelVersion);
    }
}

using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests.Loops;

public sealed class LoopServiceTests
{
    private const string Loop = "home-feed";
    private static readonly CancellationToken None = CancellationToken.None;

    // Configs hold lists and dictionaries, which records compare by reference: compare their wire JSON.
    private static string Json(LoopConfig config) => LoopConfigJson.Serialize(config);

    private static async Task RewardAsync(ComponentRig rig, LoopRuntime loop, string decisionId, string type)
    {
        await rig.Parts.Decider.DecideAsync(loop, TestEngine.Request(decisionId), None);
        await rig.Parts.Ingest.RecordSignalsAsync(loop, [new SignalInput { DecisionId = decisionId, Type = type }, new SignalInput { DecisionId = decisionId, Type = "skip" }], None);
        await rig.Parts.Ingest.FlushAsync(None);
    }

    [Fact]
    public async Task PutAsync_NewLoop_StoresItAndServesAnUntrainedVersion1()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var config = TestEngine.FeedLoop();

        var returned = await rig.Parts.Loops.PutAsync(config, None);

        Assert.Same(config, returned);
        var runtime = rig.Parts.Table.Get(Loop);
        Assert.Same(config, runtime.Config);
        Assert.Equal((1, 0L, 0L), (runtime.ModelVersion, runtime.LearnedThrough, runtime.Learner.Examples));
        Assert.Equal(rig.Time.GetUtcNow(), runtime.CreatedAt);
        var stored = Assert.Single(await rig.Store.LoadLoopsAsync());
        Assert.Equal(Json(config), Json(stored));
    }

    public static TheoryData<string, Func<LoopConfig, LoopConfig>> KeepingChanges => new()
    {
        { "reward window", c => c with { Reward = c.Reward with { WindowSeconds = 60 } } },
        { "signal types", c => c with { Signals = new Dictionary<string, SignalTypeConfig>(c.Signals) { ["share"] = new() { Weight = 2 } } } },
        { "mode", c => c with { Mode = LoopMode.Frozen } },
        { "squarecb gamma", c => c with { Exploration = c.Exploration with { Gamma = 50 } } },
        { "turn schedule", c => c with { Turns = c.Turns with { EverySeconds = 60 } } },
    };

    [Theory]
    [MemberData(nameof(KeepingChanges))]
    public async Task PutAsync_ChangeTheLearnerCanCarryOn_KeepsTheLearnerAndVersion(string name, Func<LoopConfig, LoopConfig> change)
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await RewardAsync(rig, loop, "d1", "thumbs_up");
        var learner = loop.Learner;
        var weights = learner.Save();
        var changed = change(loop.Config);

        await rig.Parts.Loops.PutAsync(changed, None);

        Assert.Same(loop, rig.Parts.Table.Get(Loop));
        Assert.Same(changed, loop.Config);
        Assert.True(loop.ModelVersion == 1, $"{name}: model version {loop.ModelVersion}");
        Assert.Same(learner, loop.Learner);
        Assert.Equal(weights, loop.Learner.Save());
        Assert.Equal(Json(changed), Json(Assert.Single(await rig.Store.LoadLoopsAsync())));
    }

    public static TheoryData<string, Func<LoopConfig, LoopConfig>> ResettingChanges => new()
    {
        { "learning rate", c => c with { Learner = c.Learner with { LearningRate = 0.1 } } },
        { "bits", c => c with { Learner = c.Learner with { Bits = 20 } } },
        { "interactions", c => c with { Learner = c.Learner with { Interactions = ["context*action", "user*item"] } } },
        { "reduction", c => c with { Learner = c.Learner with { Reduction = Reduction.Ips } } },
        { "bagging", c => c with { Exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.Bag, Bags = 3 } } },
    };

    [Theory]
    [MemberData(nameof(ResettingChanges))]
    public async Task PutAsync_NewLearnerSettings_StartsAFreshVersion(string name, Func<LoopConfig, LoopConfig> change)
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await RewardAsync(rig, loop, "d1", "thumbs_up");
        var changed = change(loop.Config);

        await rig.Parts.Loops.PutAsync(changed, None);

        Assert.True(loop.ModelVersion == 2, $"{name}: model version {loop.ModelVersion}");
        Assert.Same(changed, loop.Config);
        Assert.Equal(0, loop.Learner.Examples);
        Assert.Equal(2, loop.Serving.Policy.Version);
        // The new version learns from here on; it does not relearn the past.
        Assert.Equal(1, loop.LearnedThrough);
        Assert.Equal(2, (await rig.Store.LoadSnapshotAsync(Loop))!.Version);
        await RewardAsync(rig, loop, "d2", "thumbs_up");
        Assert.Equal((2L, 1L), (loop.LearnedThrough, loop.Learner.Examples));
    }

    [Fact]
    public async Task RestoreAllAsync_Reopened_BringsBackEveryLoopWithItsLearnerShadowsAndWindows()
    {
        using var dir = new TempDirectory();
        byte[] feedWeights;
        string feedJson, otherJson;
        DateTimeOffset stoppedAt;
        await using (var first = await ComponentRig.OpenAsync(directory: dir))
        {
            var feed = await first.PutLoopAsync(TestEngine.FeedLoop());
            var other = await first.PutLoopAsync(TestEngine.FeedLoop("other"));
            await first.Parts.Loops.PutAsync(other.Config with { Learner = other.Config.Learner with { LearningRate = 0.1 } }, None);
            await RewardAsync(first, feed, "d1", "thumbs_up");
            await RewardAsync(first, feed, "d2", "thumbs_down");
            await first.Parts.Decider.DecideAsync(feed, TestEngine.Request("open"), None);
            await first.Parts.Ingest.RecordSignalsAsync(feed, [new SignalInput { DecisionId = "open", Type = "watch_complete" }], None);
            await first.Store.SaveModelAsync(new ModelRecord
            {
                Loop = "other",
                Version = 9,
                Status = ModelStatus.Shadow,
                Learner = other.Config.Learner,
                Exploration = other.Config.Exploration,
                CreatedAt = first.Time.GetUtcNow(),
                StatusChangedAt = first.Time.GetUtcNow(),
            });
            await first.Store.SaveModelDataAsync("other", 9, other.Learner.Save());
            feedWeights = feed.Learner.Save();
            (feedJson, otherJson) = (Json(feed.Config), Json(other.Config));
            stoppedAt = first.Time.GetUtcNow();
            await first.StopAsync();
        }

        await using var second = await ComponentRig.OpenAsync(start: false, time: new FakeTimeProvider(stoppedAt.AddMinutes(1)), directory: dir);
        Assert.Empty(second.Parts.Table.All());
        await second.Parts.Loops.RestoreAllAsync(None);

        Assert.Equal(["home-feed", "other"], second.Parts.Table.All().Select(l => l.Id).Order());
        var restored = second.Parts.Table.Get(Loop);
        Assert.Equal(feedJson, Json(restored.Config));
        Assert.Equal((1, 2L), (restored.ModelVersion, restored.LearnedThrough));
        Assert.Equal(feedWeights, restored.Learner.Save());
        Assert.Equal(["open"], restored.Windows.Pending.Keys);
        Assert.Equal([("watch_complete", 1.0)], restored.Windows.Pending["open"].Signals.Select(s => (s.Type, s.Value)));
        Assert.Equal(3, restored.Windows.NextRewardSequence);
        Assert.Equal(second.Time.GetUtcNow(), restored.CreatedAt);
        Assert.Empty(restored.Serving.Shadows);
        var otherRestored = second.Parts.Table.Get("other");
        Assert.Equal(otherJson, Json(otherRestored.Config));
        Assert.Equal(2, otherRestored.ModelVersion);
        Assert.Equal(9, Assert.Single(otherRestored.Serving.Shadows).Version);
    }

    [Fact]
    public async Task GetDecisionAsync_DecidedAndJoined_ReturnsTheDecisionItsSignalsAndReward()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var decision = await rig.Parts.Decider.DecideAsync(loop, TestEngine.Request(), None);
        await rig.Parts.Ingest.RecordSignalsAsync(loop, [new SignalInput { SignalId = "s1", DecisionId = "d1", Type = "watch_complete" }, new SignalInput { SignalId = "s2", DecisionId = "d1", Type = "rewatch" }], None);

        var open = await rig.Parts.Loops.GetDecisionAsync(loop, "d1", None);
        rig.Time.Advance(TimeSpan.FromSeconds(601));
        await rig.Parts.Ingest.FlushAsync(None);
        var closed = await rig.Parts.Loops.GetDecisionAsync(loop, "d1", None);

        Assert.NotNull(open);
        Assert.Equal(decision.ChosenActionId, open.Decision.ChosenActionId);
        Assert.Equal(["s1", "s2"], open.Signals.Select(s => s.SignalId).Order());
        Assert.Null(open.Reward);
        Assert.NotNull(closed?.Reward);
        Assert.Equal(1.0, closed.Reward.Reward, 12);
        Assert.Equal(2, closed.Reward.SignalCount);
        Assert.Null(await rig.Parts.Loops.GetDecisionAsync(loop, "never-made", None));
    }

    [Fact]
    public async Task GetDecisionAsync_OtherLoopsDecision_IsNotFound()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var feed = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var other = await rig.PutLoopAsync(TestEngine.FeedLoop("other"));
        await rig.Parts.Decider.DecideAsync(feed, TestEngine.Request("only-in-feed"), None);

        Assert.Null(await rig.Parts.Loops.GetDecisionAsync(other, "only-in-feed", None));
        Assert.Equal(new LoopCounts(1, 0, 0, 0, 0), await rig.Parts.Loops.CountAsync(feed, None));
        Assert.Equal(new LoopCounts(0, 0, 0, 0, 0), await rig.Parts.Loops.CountAsync(other, None));
    }

    [Fact]
    public void LoopTable_GetUnknownLoop_ThrowsNotFoundNamingTheLoop()
    {
        var table = new LoopTable();
        table.Add(new LoopRuntime(TestEngine.FeedLoop(), TestEngine.Start));

        var ex = Assert.Throws<FlywheelValidationException>(() => table.Get("nope"));

        Assert.Equal(ValidationKind.NotFound, ex.Kind);
        Assert.Equal("loop", ex.Field);
        Assert.Contains("'nope'", ex.Problem, StringComparison.Ordinal);
        Assert.Null(table.TryGet("nope"));
        Assert.Throws<ArgumentNullException>(() => table.Get(null!));
    }

    [Fact]
    public void LoopTable_AddSameId_ReplacesTheRuntime()
    {
        var table = new LoopTable();
        var first = new LoopRuntime(TestEngine.FeedLoop(), TestEngine.Start);
        var second = new LoopRuntime(TestEngine.FeedLoop(), TestEngine.Start);
        table.Add(first);
        table.Add(new LoopRuntime(TestEngine.FeedLoop("other"), TestEngine.Start));

        table.Add(second);

        Assert.Same(second, table.Get(Loop));
        Assert.Equal(["home-feed", "other"], table.All().Select(l => l.Id).Order());
    }
}

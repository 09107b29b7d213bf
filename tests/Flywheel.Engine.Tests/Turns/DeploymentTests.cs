using Flywheel.Core;

namespace Flywheel.Engine.Tests.Turns;

public sealed class DeploymentTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>The candidate's settings differ from the champion's, so a deploy visibly swaps them.</summary>
    private static readonly ExplorationConfig CandidateExploration = new() { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 0.3 };

    [Fact]
    public async Task Deploy_CandidateWithWeights_ServesItAndRetiresThePreviousChampionWithTheReason()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await rig.Parts.Registry.EnsureChampionRegisteredAsync(runtime, None);
        var candidate = await RegisterCandidateAsync(rig, runtime, version: 2);
        rig.Time.Advance(TimeSpan.FromMinutes(3));

        await rig.Parts.Deployment.DeployAsync(runtime, candidate, "promoted for the test", "replaced for the test", None);

        Assert.Equal(2, runtime.ModelVersion);
        Assert.Equal(2, runtime.Serving.Policy.Version);
        Assert.Equal(0.3, runtime.Config.Exploration.EffectiveEpsilon);
        Assert.Equal(0.3, Assert.Single(await rig.Store.LoadLoopsAsync()).Exploration.EffectiveEpsilon);
        var models = await rig.Store.LoadModelsAsync(runtime.Id);
        var old = models.Single(m => m.Version == 1);
        Assert.Equal(ModelStatus.Retired, old.Status);
        Assert.Equal("replaced for the test", old.Reason);
        Assert.Equal(TestEngine.Start.AddMinutes(3), old.StatusChangedAt);
        // The old champion keeps its weights and position, so a rollback can bring it back.
        Assert.Equal(0, old.TrainedThrough);
        Assert.NotNull(await rig.Store.LoadModelDataAsync(runtime.Id, 1));
        var champion = models.Single(m => m.Version == 2);
        Assert.Equal(ModelStatus.Champion, champion.Status);
        Assert.Equal("promoted for the test", champion.Reason);
        Assert.Equal(2, (await rig.Store.LoadSnapshotAsync(runtime.Id))!.Version);

        var decision = await rig.Parts.Decider.DecideAsync(runtime, TestEngine.Request("after-deploy"), None);
        Assert.Equal(2, decision.ModelVersion);
    }

    [Fact]
    public async Task Deploy_ModelTrainedBehindTheLiveLearner_CatchesUpOnTheRewardsSince()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await rig.Parts.Registry.EnsureChampionRegisteredAsync(runtime, None);
        await ServeAsync(rig, runtime, "a", 6);
        Assert.Equal(6, runtime.LearnedThrough);
        // Weights trained through reward 2 of 6: the deploy replays rewards 3…6 into them.
        var candidate = await RegisterCandidateAsync(rig, runtime, version: 2, trainedThrough: 2);

        await rig.Parts.Deployment.DeployAsync(runtime, candidate, "promoted", "replaced", None);

        Assert.Equal(4, runtime.Learner.Examples);
        Assert.Equal(6, (await rig.Store.LoadModelsAsync(runtime.Id)).Single(m => m.Version == 1).TrainedThrough);
        // The new champion then learns online like any other.
        await ServeAsync(rig, runtime, "b", 2);
        Assert.Equal(6, runtime.Learner.Examples);
        Assert.Equal(8, runtime.LearnedThrough);
    }

    [Fact]
    public async Task Deploy_ModelWithoutStoredWeights_IsAConflictAndChangesNothing()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await rig.Parts.Registry.EnsureChampionRegisteredAsync(runtime, None);
        var candidate = await RegisterCandidateAsync(rig, runtime, version: 2);
        await rig.Store.SaveModelDataAsync(runtime.Id, 2, null);

        var error = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.Parts.Deployment.DeployAsync(runtime, candidate, "promoted", "replaced", None));

        Assert.Equal("version", error.Field);
        Assert.Equal(ValidationKind.Conflict, error.Kind);
        Assert.Equal(1, runtime.ModelVersion);
        Assert.Equal(ModelStatus.Champion, (await rig.Store.LoadModelsAsync(runtime.Id)).Single(m => m.Version == 1).Status);
    }

    [Fact]
    public async Task Deploy_ShadowModel_LeavesShadowModeAsItStartsServing()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await RegisterCandidateAsync(rig, runtime, version: 2);
        var shadow = await rig.Parts.Shadows.ShadowAsync(runtime, 2, None);
        Assert.Equal(2, Assert.Single(runtime.Serving.Shadows).Version);
        await rig.Parts.Decider.DecideAsync(runtime, TestEngine.Request("before"), None);
        Assert.Equal(2, Assert.Single((await rig.Store.GetDecisionAsync(runtime.Id, "before"))!.Shadows).Version);

        await rig.Parts.Deployment.DeployAsync(runtime, shadow, "promoted from shadow", "replaced", None);

        Assert.Empty(runtime.Serving.Shadows);
        Assert.Equal(2, runtime.Serving.Policy.Version);
        // Before the deploy a decision records what the shadow would have served; after it, none does.
        await rig.Parts.Decider.DecideAsync(runtime, TestEngine.Request("after"), None);
        Assert.Empty((await rig.Store.GetDecisionAsync(runtime.Id, "after"))!.Shadows);
    }

    [Fact]
    public async Task Rollback_AfterADeploy_ServesThePredecessorAgainAndWritesTheLedgerEntry()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await rig.Parts.Registry.EnsureChampionRegisteredAsync(runtime, None);
        await rig.Store.SaveTurnAsync(PreviousTurn(runtime.Id));
        var candidate = await RegisterCandidateAsync(rig, runtime, version: 2);
        await rig.Parts.Deployment.DeployAsync(runtime, candidate, "promoted", "replaced", None);
        rig.Time.Advance(TimeSpan.FromHours(1));

        var entry = await rig.Parts.Deployment.RollbackAsync(runtime, TurnTrigger.Manual, "it looked worse", lift: null, None);

        Assert.Equal(1, runtime.ModelVersion);
        Assert.Equal(1, runtime.Serving.Policy.Version);
        Assert.Equal(ExplorationAlgorithm.SquareCb, runtime.Config.Exploration.Algorithm);
        Assert.Equal(2, entry.Number);
        Assert.Equal(TurnTrigger.Manual, entry.Trigger);
        Assert.Equal(TurnVerdict.RolledBack, entry.Verdict);
        Assert.Equal(2, entry.ChampionVersion);
        Assert.Equal(1, entry.DeployedVersion);
        Assert.Equal(TestEngine.Start.AddHours(1), entry.DeployedAt);
        Assert.Equal("v2 it looked worse; v1 serves again", entry.Reason);
        Assert.Null(entry.Lift);
        var ledger = await rig.Store.LoadTurnsAsync(runtime.Id);
        Assert.Equal(TurnVerdict.RolledBack, ledger[^1].Verdict);
        Assert.Equal(2, ledger.Count);
        var models = await rig.Store.LoadModelsAsync(runtime.Id);
        Assert.Equal(ModelStatus.Champion, models.Single(m => m.Version == 1).Status);
        Assert.Equal("restored by rollback: it looked worse", models.Single(m => m.Version == 1).Reason);
        Assert.Equal(ModelStatus.Retired, models.Single(m => m.Version == 2).Status);
        Assert.Equal("rolled back to v1: it looked worse", models.Single(m => m.Version == 2).Reason);
        Assert.Equal(1, (await rig.Parts.Decider.DecideAsync(runtime, TestEngine.Request("after-rollback"), None)).ModelVersion);
    }

    [Fact]
    public async Task Rollback_ChampionWithoutPredecessor_IsAConflict()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());

        var error = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.Parts.Deployment.RollbackAsync(runtime, TurnTrigger.Manual, "why", lift: null, None));

        Assert.Equal("loop", error.Field);
        Assert.Equal(ValidationKind.Conflict, error.Kind);
        Assert.Contains("v1 has no predecessor", error.Message, StringComparison.Ordinal);
        Assert.Empty(await rig.Store.LoadTurnsAsync(runtime.Id));
        Assert.Equal(1, runtime.ModelVersion);
    }

    [Fact]
    public async Task SetMode_Apprentice_IsStoredAndServedAtOnce()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());

        await rig.Parts.Deployment.SetModeAsync(runtime, LoopMode.Apprentice, None);

        Assert.Equal(LoopMode.Apprentice, runtime.Config.Mode);
        Assert.Equal(LoopMode.Apprentice, Assert.Single(await rig.Store.LoadLoopsAsync()).Mode);
        Assert.Equal(1, runtime.ModelVersion);
        // The decider reads the new mode: an apprentice loop needs the product's baseline.
        var missing = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await rig.Parts.Decider.DecideAsync(runtime, TestEngine.Request("d1"), None));
        Assert.Equal("baselineActionId", missing.Field);

        await rig.Parts.Deployment.SetModeAsync(runtime, LoopMode.Online, None);
        Assert.Equal(LoopMode.Online, runtime.Config.Mode);
        Assert.Equal(1, (await rig.Parts.Decider.DecideAsync(runtime, TestEngine.Request("d2"), None)).ModelVersion);
    }

    /// <summary>Registers a candidate (parent v1) whose weights are a fresh learner of <see cref="CandidateExploration"/>.</summary>
    private static async Task<ModelRecord> RegisterCandidateAsync(ComponentRig rig, LoopRuntime runtime, int version, long trainedThrough = 0)
    {
        var learner = runtime.Kind.CreateLearner(runtime.Config.Learner, CandidateExploration);
        var model = new ModelRecord
        {
            Loop = runtime.Id,
            Version = version,
            ParentVersion = 1,
            Status = ModelStatus.Candidate,
            Learner = runtime.Config.Learner,
            Exploration = CandidateExploration,
            TrainedThrough = trainedThrough,
            CreatedAt = rig.Time.GetUtcNow(),
            StatusChangedAt = rig.Time.GetUtcNow(),
            Reason = "trained for the test",
        };
        await rig.Store.SaveModelAsync(model);
        await rig.Store.SaveModelDataAsync(runtime.Id, version, learner.Save());
        return model;
    }

    /// <summary>Decisions through the decider, each closed at once by a skip, committed and learned.</summary>
    private static async Task ServeAsync(ComponentRig rig, LoopRuntime runtime, string prefix, int count)
    {
        for (var i = 0; i < count; i++)
        {
            rig.Time.Advance(TimeSpan.FromSeconds(1));
            var d = await rig.Parts.Decider.DecideAsync(runtime, TestEngine.Request($"{prefix}{i}"), None);
            await rig.Parts.Ingest.RecordSignalsAsync(runtime, [new SignalInput { DecisionId = d.DecisionId, Type = "skip" }], None);
        }
        await rig.Parts.Ingest.FlushAsync(None);
    }

    private static TurnRecord PreviousTurn(string loop) => new()
    {
        Loop = loop,
        Number = 1,
        Trigger = TurnTrigger.Manual,
        StartedAt = TestEngine.Start,
        FinishedAt = TestEngine.Start,
        ChampionVersion = 1,
        Verdict = TurnVerdict.InsufficientData,
        Reason = "an earlier entry",
    };
}

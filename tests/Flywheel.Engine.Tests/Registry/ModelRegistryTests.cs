using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Engine.Tests.Registry;

public sealed class ModelRegistryTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task EnsureChampionRegistered_NewLoop_RegistersVersionOneOnce()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        Assert.Empty(await rig.Store.LoadModelsAsync("home-feed"));

        await rig.Parts.Registry.EnsureChampionRegisteredAsync(runtime, None);
        Assert.Single(await rig.Store.LoadModelsAsync("home-feed"));
        rig.Time.Advance(TimeSpan.FromMinutes(5));
        await rig.Parts.Registry.EnsureChampionRegisteredAsync(runtime, None);

        // The second call finds v1 already champion and writes nothing (its status time would move otherwise).
        var model = Assert.Single(await rig.Store.LoadModelsAsync("home-feed"));
        Assert.Equal(1, model.Version);
        Assert.Equal(ModelStatus.Champion, model.Status);
        Assert.Equal(TestEngine.Start, model.StatusChangedAt);
        Assert.Equal(runtime.Config.Learner.Interactions, model.Learner.Interactions);
        Assert.Equal(runtime.Config.Exploration.Algorithm, model.Exploration.Algorithm);
        Assert.Null(model.ParentVersion);
        Assert.Equal("made by the loop config", model.Reason);
    }

    [Fact]
    public async Task EnsureChampionRegistered_NewLearnerSettings_RetiresTheOldChampionForTheNewVersion()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = TestEngine.FeedLoop();
        var runtime = await rig.PutLoopAsync(loop);
        await rig.Parts.Registry.EnsureChampionRegisteredAsync(runtime, None);

        // Settings the learner cannot carry on with start a fresh model version (v2) in the learner host.
        await rig.PutLoopAsync(loop with { Learner = loop.Learner with { Interactions = ["context*action", "context*context*action"] } });
        Assert.Equal(2, runtime.ModelVersion);
        rig.Time.Advance(TimeSpan.FromMinutes(1));
        var models = await rig.Parts.Registry.ListAsync(runtime, None);

        Assert.Equal([1, 2], models.Select(m => m.Version));
        Assert.Equal(ModelStatus.Retired, models[0].Status);
        Assert.Equal("replaced by v2, made by a change of the loop's learner settings", models[0].Reason);
        Assert.Equal(TestEngine.Start.AddMinutes(1), models[0].StatusChangedAt);
        Assert.Equal(ModelStatus.Champion, models[1].Status);
        Assert.Contains("context*context*action", models[1].Learner.Interactions);
    }

    [Fact]
    public async Task NextVersion_AfterRegisteredModels_IsOneAboveTheHighest()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());

        // Nothing registered yet: the serving v1 counts.
        Assert.Equal(2, await rig.Parts.Registry.NextVersionAsync(runtime, None));
        await rig.Store.SaveModelAsync(Model(runtime, 5, ModelStatus.Candidate));
        Assert.Equal(6, await rig.Parts.Registry.NextVersionAsync(runtime, None));
        await rig.Store.SaveModelAsync(Model(runtime, 3, ModelStatus.Retired));
        Assert.Equal(6, await rig.Parts.Registry.NextVersionAsync(runtime, None));
    }

    [Fact]
    public async Task NextTurnNumber_AfterLedgerEntries_FollowsTheNewest()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());

        Assert.Equal(1, await rig.Parts.Registry.NextTurnNumberAsync(runtime, None));
        await rig.Store.SaveTurnAsync(Turn(1, TurnVerdict.InsufficientData, through: 0));
        Assert.Equal(2, await rig.Parts.Registry.NextTurnNumberAsync(runtime, None));
        await rig.Store.SaveTurnAsync(Turn(2, TurnVerdict.Rejected, through: 10));
        Assert.Equal(3, await rig.Parts.Registry.NextTurnNumberAsync(runtime, None));
    }

    [Fact]
    public async Task Find_UnknownVersion_ThrowsNotFoundNamingTheField()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());

        var error = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await rig.Parts.Registry.FindAsync(runtime, 9, None, field: "policies[1]"));
        Assert.Equal("policies[1]", error.Field);
        Assert.Equal(ValidationKind.NotFound, error.Kind);
        Assert.Contains("no model version 9", error.Message, StringComparison.Ordinal);

        // The default field is "version"; the champion is found (registered on the way).
        Assert.Equal("version", (await Assert.ThrowsAsync<FlywheelValidationException>(async () => await rig.Parts.Registry.FindAsync(runtime, 2, None))).Field);
        Assert.Equal(ModelStatus.Champion, (await rig.Parts.Registry.FindAsync(runtime, 1, None)).Status);
    }

    [Fact]
    public async Task LoadWeights_NoStoredWeights_ThrowsConflictAndUnknownVersionNotFound()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await rig.Store.SaveModelAsync(Model(runtime, 2, ModelStatus.Retired));

        // A record without weights is a 409: the model exists, its weights were dropped.
        var conflict = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await rig.Parts.Registry.LoadWeightsAsync(runtime, 2, None, field: "version"));
        Assert.Equal("version", conflict.Field);
        Assert.Equal(ValidationKind.Conflict, conflict.Kind);
        Assert.Contains("model version 2 has no stored weights", conflict.Message, StringComparison.Ordinal);

        // A version with no record at all is a 404, from LoadWeights and LoadLearner alike.
        var unknown = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await rig.Parts.Registry.LoadWeightsAsync(runtime, 7, None, field: "version"));
        Assert.Equal("version", unknown.Field);
        Assert.Equal(ValidationKind.NotFound, unknown.Kind);
        var learner = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await rig.Parts.Registry.LoadLearnerAsync(runtime, 7, None));
        Assert.Equal(ValidationKind.NotFound, learner.Kind);
    }

    [Fact]
    public async Task LoadLearner_StoredWeights_RoundTripExactly()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var settings = runtime.Config.Learner with { Interactions = ["context*action", "context*context*action"] };
        var exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 0.1 };
        var learner = runtime.Kind.CreateLearner(settings, exploration);
        // A learner that has learned something: v2 pays in France, v3 in Germany.
        for (var i = 0; i < 40; i++)
        {
            var fr = i % 2 == 0;
            learner.Learn(Decision(runtime.Id, $"d{i}", fr ? "fr" : "de", chosen: fr ? "v2" : "v3"), reward: 1, exploration);
            learner.Learn(Decision(runtime.Id, $"e{i}", fr ? "fr" : "de", chosen: "v1"), reward: -1, exploration);
        }
        var weights = learner.Save();
        await rig.Store.SaveModelAsync(Model(runtime, 2, ModelStatus.Candidate) with { Learner = settings, Exploration = exploration, TrainedThrough = 80 });
        await rig.Store.SaveModelDataAsync(runtime.Id, 2, weights);

        var loaded = await rig.Parts.Registry.LoadLearnerAsync(runtime, 2, None);

        Assert.Equal(weights, loaded.Save());
        Assert.Equal(learner.Examples, loaded.Examples);
        foreach (var country in new[] { "fr", "de" })
        {
            var prepared = runtime.Kind.Prepare(Decision(runtime.Id, "probe", country, chosen: "v1"));
            var (expectedCosts, expectedPmf) = Score(learner, prepared, exploration);
            var (costs, pmf) = Score(loaded, prepared, exploration);
            Assert.Equal(expectedCosts, costs);
            Assert.Equal(expectedPmf, pmf);
        }
        // And it has learned what it was taught, so the comparison above compares real predictions.
        var (frCosts, _) = Score(loaded, runtime.Kind.Prepare(Decision(runtime.Id, "p", "fr", "v1")), exploration);
        Assert.True(frCosts[1] < frCosts[0], $"v2 ({frCosts[1]}) should look cheaper than v1 ({frCosts[0]}) in France");
    }

    [Fact]
    public async Task LastJudgedThrough_FollowsTheLatestJudgedTurn()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var registry = rig.Parts.Registry;

        Assert.Equal(0, await registry.LastJudgedThroughAsync(runtime, None));
        await rig.Store.SaveTurnAsync(Turn(1, TurnVerdict.InsufficientData, through: 30));
        Assert.Equal(0, await registry.LastJudgedThroughAsync(runtime, None));
        await rig.Store.SaveTurnAsync(Turn(2, TurnVerdict.Rejected, through: 40));
        Assert.Equal(40, await registry.LastJudgedThroughAsync(runtime, None));
        // Entries that judged no data leave the position where it was.
        await rig.Store.SaveTurnAsync(Turn(3, TurnVerdict.ManuallyPromoted, through: 55));
        await rig.Store.SaveTurnAsync(Turn(4, TurnVerdict.RolledBack, through: 60));
        await rig.Store.SaveTurnAsync(Turn(5, TurnVerdict.InsufficientData, through: 61));
        Assert.Equal(40, await registry.LastJudgedThroughAsync(runtime, None));
        await rig.Store.SaveTurnAsync(Turn(6, TurnVerdict.AwaitingManualPromotion, through: 70));
        Assert.Equal(70, await registry.LastJudgedThroughAsync(runtime, None));
        await rig.Store.SaveTurnAsync(Turn(7, TurnVerdict.Promoted, through: 90));
        Assert.Equal(90, await registry.LastJudgedThroughAsync(runtime, None));
        await rig.Store.SaveTurnAsync(Turn(8, TurnVerdict.Graduated, through: 95));
        Assert.Equal(95, await registry.LastJudgedThroughAsync(runtime, None));
    }

    [Fact]
    public async Task LastJudgedThrough_JudgedTurnBehindALongRunOfIdleEntries_IsStillFound()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await rig.Store.SaveTurnAsync(Turn(1, TurnVerdict.Rejected, through: 25));
        // More idle entries than the registry reads at first (64): it has to read the whole ledger.
        for (var n = 2; n <= 80; n++)
        {
            await rig.Store.SaveTurnAsync(Turn(n, TurnVerdict.InsufficientData, through: 25 + n));
        }

        Assert.Equal(25, await rig.Parts.Registry.LastJudgedThroughAsync(runtime, None));
        Assert.Equal(81, await rig.Parts.Registry.NextTurnNumberAsync(runtime, None));
    }

    private static ModelRecord Model(LoopRuntime runtime, int version, ModelStatus status) => new()
    {
        Loop = runtime.Id,
        Version = version,
        ParentVersion = 1,
        Status = status,
        Learner = runtime.Config.Learner,
        Exploration = runtime.Config.Exploration,
        CreatedAt = TestEngine.Start,
        StatusChangedAt = TestEngine.Start,
        Reason = $"test model {version}",
    };

    private static TurnRecord Turn(long number, TurnVerdict verdict, long through) => new()
    {
        Loop = "home-feed",
        Number = number,
        Trigger = TurnTrigger.Manual,
        StartedAt = TestEngine.Start,
        FinishedAt = TestEngine.Start,
        Window = new DataWindow { AfterSequence = 0, ThroughSequence = through, Decisions = through, Signals = 0 },
        ChampionVersion = 1,
        Verdict = verdict,
        Reason = verdict.ToString(),
    };

    private static DecisionRecord Decision(string loop, string id, string country, string chosen)
    {
        var request = TestEngine.Request(id, country);
        return new DecisionRecord
        {
            Loop = loop,
            DecisionId = id,
            At = TestEngine.Start,
            Context = request.Context,
            Actions = request.Actions,
            ChosenActionId = chosen,
            Explored = false,
            Ranking = request.Actions.Select(a => new RankedAction(a.Id, 1.0 / 3)).OrderBy(a => a.ActionId == chosen ? 0 : 1).ToList(),
            ModelVersion = 1,
        };
    }

    private static (float[] Costs, double[] Pmf) Score(ILoopLearner learner, PreparedDecision prepared, ExplorationConfig exploration)
    {
        var costs = new float[prepared.ActionCount];
        var pmf = new double[prepared.ActionCount];
        learner.Score(prepared, exploration, costs, pmf);
        return (costs, pmf);
    }
}

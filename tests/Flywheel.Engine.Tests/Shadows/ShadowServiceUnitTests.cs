using Flywheel.Core;

namespace Flywheel.Engine.Tests.Shadows;

/// <summary>The shadow service on its own: which models may shadow, what serving sees, and the report over a hand-written log.</summary>
public sealed class ShadowServiceUnitTests
{
    private const string Loop = "home-feed";
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Shadow_CandidateWithWeights_BecomesAShadowThatScoresEveryDecision()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await RegisterAsync(rig, runtime, 2, ModelStatus.Candidate);
        rig.Time.Advance(TimeSpan.FromMinutes(5));

        var shadow = await rig.Parts.Shadows.ShadowAsync(runtime, 2, None);

        Assert.Equal(ModelStatus.Shadow, shadow.Status);
        Assert.Equal(TestEngine.Start.AddMinutes(5), shadow.StatusChangedAt);
        Assert.Equal(ModelStatus.Shadow, (await rig.Store.LoadModelsAsync(Loop)).Single(m => m.Version == 2).Status);
        Assert.Equal(2, Assert.Single(runtime.Serving.Shadows).Version);
        var decision = await rig.Parts.Decider.DecideAsync(runtime, TestEngine.Request("scored"), None);
        var stored = await rig.Store.GetDecisionAsync(Loop, decision.DecisionId);
        var choice = Assert.Single(stored!.Shadows);
        Assert.Equal(2, choice.Version);
        Assert.Contains(choice.ActionId, stored.Actions.Select(a => a.Id));
    }

    [Fact]
    public async Task Shadow_ChampionUnknownOrWithoutWeights_IsRefusedNamingTheVersion()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await rig.Parts.Registry.EnsureChampionRegisteredAsync(runtime, None);
        await rig.Store.SaveModelAsync(Model(rig, 3, ModelStatus.Retired));

        var champion = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await rig.Parts.Shadows.ShadowAsync(runtime, 1, None));
        var unknown = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await rig.Parts.Shadows.ShadowAsync(runtime, 9, None));
        var noWeights = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await rig.Parts.Shadows.ShadowAsync(runtime, 3, None));

        Assert.Equal((ValidationKind.Conflict, "version"), (champion.Kind, champion.Field));
        Assert.Equal((ValidationKind.NotFound, "version"), (unknown.Kind, unknown.Field));
        Assert.Equal((ValidationKind.Conflict, "version"), (noWeights.Kind, noWeights.Field));
        Assert.Empty(runtime.Serving.Shadows);
        Assert.Equal(ModelStatus.Retired, (await rig.Store.LoadModelsAsync(Loop)).Single(m => m.Version == 3).Status);
    }

    [Fact]
    public async Task Retire_Shadow_StopsScoringAndKeepsTheReason()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await RegisterAsync(rig, runtime, 2, ModelStatus.Candidate);
        await rig.Parts.Shadows.ShadowAsync(runtime, 2, None);

        var retired = await rig.Parts.Shadows.RetireAsync(runtime, 2, "seen enough", None);

        Assert.Equal(ModelStatus.Retired, retired.Status);
        Assert.Equal("retired by hand: seen enough", retired.Reason);
        Assert.Empty(runtime.Serving.Shadows);
        var decision = await rig.Parts.Decider.DecideAsync(runtime, TestEngine.Request("unscored"), None);
        Assert.Empty((await rig.Store.GetDecisionAsync(Loop, decision.DecisionId))!.Shadows);
        Assert.Equal("retired by hand", (await rig.Parts.Shadows.RetireAsync(runtime, 2, " ", None)).Reason);
    }

    [Fact]
    public async Task Retire_Champion_IsAConflict()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await rig.Parts.Registry.EnsureChampionRegisteredAsync(runtime, None);

        var error = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await rig.Parts.Shadows.RetireAsync(runtime, 1, null, None));

        Assert.Equal(ValidationKind.Conflict, error.Kind);
        Assert.Equal(ModelStatus.Champion, (await rig.Store.LoadModelsAsync(Loop)).Single(m => m.Version == 1).Status);
    }

    [Fact]
    public async Task Report_HandWrittenLog_MatchesTheHandComputedFigures()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await RegisterAsync(rig, runtime, 2, ModelStatus.Shadow);
        await LogAsync(rig);

        var report = await rig.Parts.Shadows.GetReportAsync(runtime, 2, None);

        // Scored decisions d0, d1, d2, d4 (d3 predates the shadow); each served v1 with p = 0.8, so the weights are the
        // shadow's probability of v1 over 0.8: 0.6/0.8 = 0.75, 0.2/0.8 = 0.25, 0.1/0.8 = 0.125, 0.4/0.8 = 0.5.
        // IPS = (0.75·1 + 0.25·(−0.5) + 0.125·0.75 + 0.5·0.25) / 4 = 0.84375 / 4; SNIPS = 0.84375 / 1.625.
        Assert.Equal(4, report.Decisions);
        Assert.Equal(1, report.Agreements);
        Assert.Equal(0.25, report.AgreementRate, 12);
        Assert.Equal(1.5 / 4, report.ServedMean, 12);
        Assert.Equal(0.84375 / 4, report.Estimates!.Ips.Value, 12);
        Assert.Equal(0.84375 / 1.625, report.Estimates.Snips.Value, 12);
        // d1 disagreed and the served action did badly (reward below the default 0); d2 disagreed and the served action
        // did well (0.75 ≥ halfway to the maximum), so the shadow was wrong; d4 disagreed with a middling reward: no verdict.
        Assert.Equal(2, report.Mismatches);
    }

    [Fact]
    public async Task Report_ModelThatScoredNothing_HasNoEstimates()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await RegisterAsync(rig, runtime, 2, ModelStatus.Shadow);
        await RegisterAsync(rig, runtime, 3, ModelStatus.Shadow);
        await LogAsync(rig);

        var report = await rig.Parts.Shadows.GetReportAsync(runtime, 3, None);

        Assert.Equal(0, report.Decisions);
        Assert.Null(report.Estimates);
        Assert.True(double.IsNaN(report.AgreementRate));
        await Assert.ThrowsAsync<FlywheelValidationException>(async () => await rig.Parts.Shadows.GetReportAsync(runtime, 9, None));
    }

    [Fact]
    public async Task Mismatches_Latest_AreTheNewestOldestFirstWithTheSideThatWasWrong()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop());
        await RegisterAsync(rig, runtime, 2, ModelStatus.Shadow);
        await LogAsync(rig);

        var all = await rig.Parts.Shadows.ListMismatchesAsync(runtime, 2, limit: 10, None);
        var latest = await rig.Parts.Shadows.ListMismatchesAsync(runtime, null, limit: 1, None);

        Assert.Equal(["d1", "d2"], all.Select(m => m.DecisionId));
        Assert.Equal([MismatchSide.Served, MismatchSide.Shadow], all.Select(m => m.Wrong));
        Assert.Equal(("v1", "v2"), (all[0].ServedActionId, all[0].ShadowActionId));
        Assert.Equal("d2", Assert.Single(latest).DecisionId);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await rig.Parts.Shadows.ListMismatchesAsync(runtime, 2, limit: 0, None));
    }

    private static ModelRecord Model(ComponentRig rig, int version, ModelStatus status) => new()
    {
        Loop = Loop,
        Version = version,
        ParentVersion = 1,
        Status = status,
        Learner = TestEngine.FeedLoop().Learner,
        Exploration = TestEngine.FeedLoop().Exploration,
        TrainedThrough = 0,
        CreatedAt = rig.Time.GetUtcNow(),
        StatusChangedAt = rig.Time.GetUtcNow(),
        Reason = "registered for the test",
    };

    private static async Task RegisterAsync(ComponentRig rig, LoopRuntime runtime, int version, ModelStatus status)
    {
        var model = Model(rig, version, status);
        await rig.Store.SaveModelAsync(model);
        await rig.Store.SaveModelDataAsync(Loop, version, runtime.Kind.CreateLearner(model.Learner, model.Exploration).Save());
    }

    /// <summary>
    /// Five rewarded decisions, each served v1 with probability 0.8; all but d3 carry v2's choice (the action it would
    /// have served, its probability, and its probability of v1) — see the report test for the arithmetic.
    /// </summary>
    private static async Task LogAsync(ComponentRig rig)
    {
        (string Id, ShadowChoice? Choice, double Reward)[] rows =
        [
            ("d0", new ShadowChoice(2, "v1", 0.6, 0.6), 1.0),
            ("d1", new ShadowChoice(2, "v2", 0.7, 0.2), -0.5),
            ("d2", new ShadowChoice(2, "v3", 0.8, 0.1), 0.75),
            ("d3", null, 1.0),
            ("d4", new ShadowChoice(2, "v2", 0.5, 0.4), 0.25),
        ];
        var request = TestEngine.Request();
        var batch = new StoreBatch();
        for (var i = 0; i < rows.Length; i++)
        {
            var (id, choice, reward) = rows[i];
            batch.Decisions.Add(new DecisionRecord
            {
                Loop = Loop,
                DecisionId = id,
                At = TestEngine.Start.AddSeconds(i),
                Context = request.Context,
                Actions = request.Actions,
                ChosenActionId = "v1",
                Explored = false,
                Ranking = [new RankedAction("v1", 0.8), new RankedAction("v2", 0.1), new RankedAction("v3", 0.1)],
                ModelVersion = 1,
                Shadows = choice is null ? [] : [choice],
            });
            batch.Rewards.Add(new RewardRecord
            {
                Loop = Loop,
                DecisionId = id,
                Sequence = i + 1,
                Reward = reward,
                SignalCount = 1,
                ClosedAt = TestEngine.Start.AddSeconds(i + 1),
                ClosedBy = WindowClose.Signal,
            });
        }
        await rig.Store.CommitAsync(batch);
    }
}

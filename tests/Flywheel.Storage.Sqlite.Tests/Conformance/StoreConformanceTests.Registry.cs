using Flywheel.Core;

namespace Flywheel.Storage.Conformance;

// The model registry and the turn ledger.
public abstract partial class StoreConformanceTests
{
    private static OffPolicyEstimates Estimates(long n, double value) => new()
    {
        Count = n,
        EffectiveSampleSize = n * 0.75,
        Ips = new Estimate(value, value - 0.01, value + 0.01),
        IpsClopperPearson = n > 1 ? new Estimate(value, value - 0.02, value + 0.02) : null,
        Snips = new Estimate(double.NaN, double.NegativeInfinity, double.PositiveInfinity),
        Dm = new Estimate(value, double.NegativeInfinity, double.PositiveInfinity),
        Dr = new Estimate(value + 1e-17, value - 0.1234567890123, value + 0.1),
        MinReward = -1,
        MaxReward = 1,
        MaxWeight = 20.5,
    };

    private static ModelRecord Model(string loop, int version, ModelStatus status) => new()
    {
        Loop = loop,
        Version = version,
        ParentVersion = version > 1 ? version - 1 : null,
        Status = status,
        Learner = new LearnerConfig { Interactions = ["context*action", "context*context*action"], LearningRate = 0.25 },
        Exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 0.02 },
        Turn = version > 1 ? 3 : null,
        Window = new DataWindow { AfterSequence = 10, ThroughSequence = 2010, From = T0, To = T0.AddHours(1), Decisions = 2000, Signals = 3100 },
        TrainedThrough = 2010,
        Estimates = Estimates(2000, 0.61),
        CreatedAt = T0,
        StatusChangedAt = T0.AddMinutes(5),
        Reason = "trained in turn 3 (epsilon÷2)",
    };

    private static TurnRecord Turn(string loop, long number, OnlineLift? lift = null) => new()
    {
        Loop = loop,
        Number = number,
        Trigger = number == 1 ? TurnTrigger.Schedule : TurnTrigger.Guardrail,
        StartedAt = T0,
        FinishedAt = T0.AddSeconds(3),
        Window = new DataWindow { AfterSequence = 0, ThroughSequence = 1500, Decisions = 1500, Signals = 2000 },
        ChampionVersion = 1,
        Candidates =
        [
            new TurnCandidate { Name = "champion", Version = 1, Learner = new LearnerConfig(), Exploration = new ExplorationConfig(), Estimates = Estimates(1500, 0.4) },
            new TurnCandidate { Name = "uniform", Estimates = Estimates(1, 0.1) },
        ],
        Verdict = number == 1 ? TurnVerdict.Promoted : TurnVerdict.RolledBack,
        Reason = "the 95% lower bounds of IPS and DR beat the champion",
        DeployedVersion = 2,
        DeployedAt = T0.AddSeconds(3),
        Lift = lift,
    };

    private static string Json(ModelRecord m) => FlywheelJson.ToString(w => FlywheelJson.Write(w, m));

    private static string Json(TurnRecord t) => FlywheelJson.ToString(w => FlywheelJson.Write(w, t));

    [Fact]
    public async Task CommitAsync_DecisionWithShadows_ReadsBackEveryShadowChoiceExactly()
    {
        var store = await OpenAsync();
        var shadowed = RichDecision("feed", "d-shadow", T0) with
        {
            Shadows = [new ShadowChoice(3, "a2", 0.1 + 0.2, 1e-300), new ShadowChoice(4, "a1", 1, 0)],
        };
        var batch = new StoreBatch();
        batch.Decisions.Add(shadowed);
        batch.Decisions.Add(RichDecision("feed", "d-plain", T0));
        await store.CommitAsync(batch);

        AssertSameDecision(shadowed, await store.GetDecisionAsync("feed", "d-shadow"));
        Assert.Empty((await store.GetDecisionAsync("feed", "d-plain"))!.Shadows);
    }

    [Fact]
    public async Task SaveModelAsync_NewAndReplaced_LoadModelsReturnsLatestByVersionPerLoop()
    {
        var store = await OpenAsync();
        Assert.Empty(await store.LoadModelsAsync("feed"));

        await store.SaveModelAsync(Model("feed", 2, ModelStatus.Candidate));
        await store.SaveModelAsync(Model("feed", 1, ModelStatus.Champion));
        await store.SaveModelAsync(Model("other", 1, ModelStatus.Champion));
        var promoted = Model("feed", 2, ModelStatus.Champion) with { Reason = "promoted by turn 3" };
        await store.SaveModelAsync(promoted);

        var models = await store.LoadModelsAsync("feed");
        Assert.Equal([1, 2], models.Select(m => m.Version));
        Assert.Equal(Json(Model("feed", 1, ModelStatus.Champion)), Json(models[0]));
        Assert.Equal(Json(promoted), Json(models[1]));
        Assert.True(double.IsNaN(models[1].Estimates!.Snips.Value));
        Assert.True(double.IsNegativeInfinity(models[1].Estimates!.Dm.Lower));
        Assert.Equal(BitConverter.DoubleToInt64Bits(promoted.Estimates!.Dr.Lower), BitConverter.DoubleToInt64Bits(models[1].Estimates!.Dr.Lower));
        Assert.Single(await store.LoadModelsAsync("other"));
    }

    [Fact]
    public async Task SaveModelDataAsync_SetReplacedAndDropped_LoadModelDataFollowsAndRecordsKeepTheirData()
    {
        var store = await OpenAsync();
        await store.SaveModelAsync(Model("feed", 1, ModelStatus.Champion));
        Assert.Null(await store.LoadModelDataAsync("feed", 1));

        await store.SaveModelDataAsync("feed", 1, [1, 2, 3]);
        await store.SaveModelAsync(Model("feed", 1, ModelStatus.Retired));
        Assert.Equal(new byte[] { 1, 2, 3 }, await store.LoadModelDataAsync("feed", 1));
        await store.SaveModelDataAsync("feed", 1, [9]);
        Assert.Equal(new byte[] { 9 }, await store.LoadModelDataAsync("feed", 1));
        await store.SaveModelDataAsync("feed", 1, null);
        Assert.Null(await store.LoadModelDataAsync("feed", 1));
        Assert.Null(await store.LoadModelDataAsync("feed", 7));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.SaveModelDataAsync("feed", 7, [1]));
    }

    [Fact]
    public async Task SaveTurnAsync_NewAndReplaced_LoadTurnsReturnsLatestByNumberAndSurvivesReopen()
    {
        var store = await OpenAsync();
        Assert.Empty(await store.LoadTurnsAsync("feed"));
        await store.SaveTurnAsync(Turn("feed", 2));
        await store.SaveTurnAsync(Turn("feed", 1));
        var lift = new OnlineLift
        {
            Version = 2,
            PredecessorVersion = 1,
            Decisions = 1200,
            Mean = 0.5,
            PredecessorDecisions = 1500,
            PredecessorMean = 0.4,
            Difference = new Estimate(0.1, 0.05, 0.15),
            Relative = 0.25,
            MeasuredAt = T0.AddHours(2),
        };
        await store.SaveTurnAsync(Turn("feed", 1, lift));
        await store.SaveModelAsync(Model("feed", 1, ModelStatus.Champion));
        await store.SaveModelDataAsync("feed", 1, [4, 5]);

        store = await ReopenAsync(store);

        var turns = await store.LoadTurnsAsync("feed");
        Assert.Equal([1L, 2L], turns.Select(t => t.Number));
        Assert.Equal(Json(Turn("feed", 1, lift)), Json(turns[0]));
        Assert.Equal(Json(Turn("feed", 2)), Json(turns[1]));
        Assert.Equal(lift, turns[0].Lift);
        Assert.Equal(new byte[] { 4, 5 }, await store.LoadModelDataAsync("feed", 1));
        Assert.Empty(await store.LoadTurnsAsync("other"));
    }

    [Fact]
    public async Task LoadLatestTurnsAsync_Count_ReturnsTheNewestByNumber()
    {
        var store = await OpenAsync();
        Assert.Empty(await store.LoadLatestTurnsAsync("feed", 3));
        foreach (var n in new long[] { 4, 1, 3, 2, 5 })
        {
            await store.SaveTurnAsync(Turn("feed", n));
        }
        await store.SaveTurnAsync(Turn("other", 9));

        Assert.Equal([3L, 4L, 5L], (await store.LoadLatestTurnsAsync("feed", 3)).Select(t => t.Number));
        Assert.Equal([5L], (await store.LoadLatestTurnsAsync("feed", 1)).Select(t => t.Number));
        Assert.Equal([1L, 2L, 3L, 4L, 5L], (await store.LoadLatestTurnsAsync("feed", 100)).Select(t => t.Number));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.LoadLatestTurnsAsync("feed", 0));
    }
}

using Flywheel.Core;

namespace Flywheel.Engine.Tests.Turns;

/// <summary>
/// The guardrail over a hand-written log: the judged window's rewards served by the old champion, a deploy, then the
/// rewards the new champion earned, so every figure of the lift can be computed by hand.
/// </summary>
public sealed class GuardrailTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private const int MinDecisions = 8;

    /// <summary>What the old champion earned on the judged window (rewards 1…10): mean 0.75.</summary>
    private static readonly double[] Before = [0.5, 1, 0.5, 1, 0.5, 1, 0.5, 1, 0.5, 1];

    [Fact]
    public async Task Check_NoDeployInTheLedger_DoesNothing()
    {
        await using var rig = await OpenAsync();
        var runtime = rig.Parts.Table.Get("feed");
        await rig.Parts.Registry.EnsureChampionRegisteredAsync(runtime, None);
        await LogAsync(rig, "a", version: 1, firstSequence: 1, Before);
        var rejected = Entry(TurnVerdict.Rejected, deployed: null, deployedAt: null);
        await rig.Store.SaveTurnAsync(rejected);

        await rig.Parts.Guardrail.CheckAsync(runtime, None);

        var ledger = Assert.Single(await rig.Store.LoadTurnsAsync("feed"));
        Assert.Null(ledger.Lift);
        Assert.Equal(1, runtime.ModelVersion);
    }

    [Fact]
    public async Task Check_WorseDeployedModel_IsRolledBackWithTheMeasuredLift()
    {
        await using var rig = await OpenAsync();
        var runtime = rig.Parts.Table.Get("feed");
        var deployedAt = await DeployV2Async(rig, runtime);
        // Served by v1 after the window but before the deploy: neither side of the comparison.
        await LogAsync(rig, "between", version: 1, firstSequence: 11, [-1, -1, -1], at: deployedAt.AddSeconds(-10));
        double[] after = [-0.25, -0.75, -0.25, -0.75, -0.25, -0.75, -0.25, -0.75];
        await LogAsync(rig, "b", version: 2, firstSequence: 14, after, at: deployedAt);
        rig.Time.Advance(TimeSpan.FromMinutes(30));

        await rig.Parts.Guardrail.CheckAsync(runtime, None);

        // By hand: means −0.5 and 0.75; every value lies 0.25 from its mean, so the sample variances are
        // 8·0.0625/7 and 10·0.0625/9; the Welch half-width is z·√(s²/8 + s'²/10).
        var half = Estimate.ZFor(0.95) * Math.Sqrt(8 * 0.0625 / 7 / 8 + 10 * 0.0625 / 9 / 10);
        var ledger = await rig.Store.LoadTurnsAsync("feed");
        Assert.Equal(2, ledger.Count);
        var lift = ledger[0].Lift!;
        Assert.NotNull(lift);
        Assert.Equal(2, lift.Version);
        Assert.Equal(1, lift.PredecessorVersion);
        Assert.Equal(8, lift.Decisions);
        Assert.Equal(10, lift.PredecessorDecisions);
        Assert.Equal(-0.5, lift.Mean, 12);
        Assert.Equal(0.75, lift.PredecessorMean, 12);
        Assert.Equal(-1.25, lift.Difference.Value, 12);
        Assert.Equal(-1.25 - half, lift.Difference.Lower, 12);
        Assert.Equal(-1.25 + half, lift.Difference.Upper, 12);
        Assert.Equal(-1.25 / 0.75, lift.Relative, 12);
        Assert.Equal(rig.Time.GetUtcNow(), lift.MeasuredAt);

        var rollback = ledger[1];
        Assert.Equal(TurnVerdict.RolledBack, rollback.Verdict);
        Assert.Equal(TurnTrigger.Guardrail, rollback.Trigger);
        Assert.Equal(2, rollback.ChampionVersion);
        Assert.Equal(1, rollback.DeployedVersion);
        Assert.StartsWith("v2 guardrail: online reward -0.5000 over 8 decisions is below v1's 0.7500 over 10; difference -1.2500, 95% interval [", rollback.Reason, StringComparison.Ordinal);
        Assert.Equal(lift.Difference, rollback.Lift!.Difference);
        Assert.Equal(1, runtime.ModelVersion);
        Assert.Equal(ModelStatus.Retired, (await rig.Store.LoadModelsAsync("feed")).Single(m => m.Version == 2).Status);
    }

    [Fact]
    public async Task Check_AfterARollback_DoesNotActAgain()
    {
        await using var rig = await OpenAsync();
        var runtime = rig.Parts.Table.Get("feed");
        var deployedAt = await DeployV2Async(rig, runtime);
        await LogAsync(rig, "b", version: 2, firstSequence: 11, [-1, -1, -1, -1, -0.5, -1, -1, -1, -1, -1], at: deployedAt);
        await rig.Parts.Guardrail.CheckAsync(runtime, None);
        Assert.Equal(2, (await rig.Store.LoadTurnsAsync("feed")).Count);

        rig.Time.Advance(TimeSpan.FromHours(1));
        await rig.Parts.Guardrail.CheckAsync(runtime, None);

        var ledger = await rig.Store.LoadTurnsAsync("feed");
        Assert.Equal(2, ledger.Count);
        Assert.Equal(TestEngine.Start.AddMinutes(10), ledger[0].Lift!.MeasuredAt);
        Assert.Equal(1, runtime.ModelVersion);
    }

    [Fact]
    public async Task Check_TooFewDecisionsSinceTheDeploy_WaitsThenActsOnceEnoughExist()
    {
        await using var rig = await OpenAsync();
        var runtime = rig.Parts.Table.Get("feed");
        var deployedAt = await DeployV2Async(rig, runtime);
        await LogAsync(rig, "b", version: 2, firstSequence: 11, Enumerable.Repeat(-1.0, MinDecisions - 1).ToArray(), at: deployedAt);

        await rig.Parts.Guardrail.CheckAsync(runtime, None);

        Assert.Null(Assert.Single(await rig.Store.LoadTurnsAsync("feed")).Lift);
        Assert.Equal(2, runtime.ModelVersion);

        // turns.minDecisions rewarded decisions since the deploy: now it measures, and −1 against 0.75 rolls back.
        await LogAsync(rig, "c", version: 2, firstSequence: 11 + MinDecisions - 1, [-0.5], at: deployedAt.AddMinutes(1));
        await rig.Parts.Guardrail.CheckAsync(runtime, None);

        var ledger = await rig.Store.LoadTurnsAsync("feed");
        Assert.Equal(MinDecisions, ledger[0].Lift!.Decisions);
        Assert.Equal(TurnVerdict.RolledBack, ledger[^1].Verdict);
        Assert.Equal(1, runtime.ModelVersion);
    }

    [Fact]
    public async Task Check_DeployedModelAsGood_IsKeptAndTheLiftRecordedOnce()
    {
        await using var rig = await OpenAsync();
        var runtime = rig.Parts.Table.Get("feed");
        var deployedAt = await DeployV2Async(rig, runtime);
        // The same rewards in another order: a difference of 0, whose interval reaches above 0.
        await LogAsync(rig, "b", version: 2, firstSequence: 11, [1, 0.5, 1, 0.5, 1, 0.5, 1, 0.5, 1, 0.5], at: deployedAt);

        await rig.Parts.Guardrail.CheckAsync(runtime, None);

        var entry = Assert.Single(await rig.Store.LoadTurnsAsync("feed"));
        var lift = entry.Lift!;
        Assert.NotNull(lift);
        Assert.Equal(0, lift.Difference.Value, 12);
        Assert.True(lift.Difference.Lower < 0 && lift.Difference.Upper > 0);
        Assert.Equal(10, lift.Decisions);
        Assert.Equal(2, runtime.ModelVersion);
        Assert.Equal(ModelStatus.Champion, (await rig.Store.LoadModelsAsync("feed")).Single(m => m.Version == 2).Status);

        // Measured once: a later check leaves the recorded lift alone, even after worse rewards.
        await LogAsync(rig, "c", version: 2, firstSequence: 21, Enumerable.Repeat(-1.0, 20).ToArray(), at: deployedAt.AddMinutes(5));
        rig.Time.Advance(TimeSpan.FromHours(1));
        await rig.Parts.Guardrail.CheckAsync(runtime, None);
        Assert.Equal(lift.MeasuredAt, Assert.Single(await rig.Store.LoadTurnsAsync("feed")).Lift!.MeasuredAt);
        Assert.Equal(2, runtime.ModelVersion);
    }

    [Fact]
    public async Task Check_GraduatedLoopWorseThanItsBaseline_GoesBackToApprenticeMode()
    {
        await using var rig = await OpenAsync();
        var runtime = rig.Parts.Table.Get("feed");
        await rig.Parts.Registry.EnsureChampionRegisteredAsync(runtime, None);
        // An apprentice window (the baseline served as v1), then the graduation: v1 now serves its own choices.
        await LogAsync(rig, "a", version: 1, firstSequence: 1, Before);
        rig.Time.Advance(TimeSpan.FromMinutes(5));
        await rig.Parts.Deployment.SetModeAsync(runtime, LoopMode.Online, None);
        var graduatedAt = rig.Time.GetUtcNow();
        await rig.Store.SaveTurnAsync(Entry(TurnVerdict.Graduated, deployed: 1, deployedAt: graduatedAt));
        await LogAsync(rig, "b", version: 1, firstSequence: 11, Enumerable.Repeat(-0.5, MinDecisions).ToArray(), at: graduatedAt);

        await rig.Parts.Guardrail.CheckAsync(runtime, None);

        Assert.Equal(LoopMode.Apprentice, runtime.Config.Mode);
        Assert.Equal(LoopMode.Apprentice, Assert.Single(await rig.Store.LoadLoopsAsync()).Mode);
        var ledger = await rig.Store.LoadTurnsAsync("feed");
        Assert.Equal(2, ledger.Count);
        Assert.Equal(-1.25, ledger[0].Lift!.Difference.Value, 12);
        Assert.Equal(TurnVerdict.RolledBack, ledger[1].Verdict);
        Assert.Equal(TurnTrigger.Guardrail, ledger[1].Trigger);
        Assert.EndsWith("back to apprentice mode", ledger[1].Reason, StringComparison.Ordinal);
        Assert.Equal(1, runtime.ModelVersion);
    }

    [Fact]
    public async Task Check_GraduationAlreadyReversedByHand_IsNotMeasured()
    {
        await using var rig = await OpenAsync();
        var runtime = rig.Parts.Table.Get("feed");
        await LogAsync(rig, "a", version: 1, firstSequence: 1, Before);
        rig.Time.Advance(TimeSpan.FromMinutes(5));
        await rig.Store.SaveTurnAsync(Entry(TurnVerdict.Graduated, deployed: 1, deployedAt: rig.Time.GetUtcNow()));
        await LogAsync(rig, "b", version: 1, firstSequence: 11, Enumerable.Repeat(-0.5, MinDecisions).ToArray(), at: rig.Time.GetUtcNow());
        // The loop is in apprentice mode (as configured): an operator took the graduation back.
        await rig.Parts.Deployment.SetModeAsync(runtime, LoopMode.Apprentice, None);

        await rig.Parts.Guardrail.CheckAsync(runtime, None);

        Assert.Null(Assert.Single(await rig.Store.LoadTurnsAsync("feed")).Lift);
    }

    private static async Task<ComponentRig> OpenAsync()
    {
        var rig = await ComponentRig.OpenAsync();
        await rig.PutLoopAsync(TestEngine.FeedLoop("feed") with { Turns = new TurnsConfig { MinDecisions = MinDecisions } });
        return rig;
    }

    /// <summary>
    /// Logs the judged window (rewards 1…10, served by v1), then deploys a v2 trained by the turn and writes the
    /// promoting ledger entry, as a turn does; returns when v2 started serving.
    /// </summary>
    private static async Task<DateTimeOffset> DeployV2Async(ComponentRig rig, LoopRuntime runtime)
    {
        await rig.Parts.Registry.EnsureChampionRegisteredAsync(runtime, None);
        await LogAsync(rig, "a", version: 1, firstSequence: 1, Before);
        rig.Time.Advance(TimeSpan.FromMinutes(10));
        var model = new ModelRecord
        {
            Loop = runtime.Id,
            Version = 2,
            ParentVersion = 1,
            Status = ModelStatus.Candidate,
            Learner = runtime.Config.Learner,
            Exploration = runtime.Config.Exploration,
            TrainedThrough = Before.Length,
            CreatedAt = rig.Time.GetUtcNow(),
            StatusChangedAt = rig.Time.GetUtcNow(),
            Reason = "trained in turn 1",
        };
        await rig.Store.SaveModelAsync(model);
        await rig.Store.SaveModelDataAsync(runtime.Id, 2, runtime.Kind.CreateLearner(model.Learner, model.Exploration).Save());
        await rig.Parts.Deployment.DeployAsync(runtime, model, "promoted by turn 1", "replaced by v2 in turn 1", None);
        var deployedAt = rig.Time.GetUtcNow();
        await rig.Store.SaveTurnAsync(Entry(TurnVerdict.Promoted, deployed: 2, deployedAt: deployedAt));
        return deployedAt;
    }

    private static TurnRecord Entry(TurnVerdict verdict, int? deployed, DateTimeOffset? deployedAt) => new()
    {
        Loop = "feed",
        Number = 1,
        Trigger = TurnTrigger.Manual,
        StartedAt = TestEngine.Start,
        FinishedAt = TestEngine.Start,
        Window = new DataWindow { AfterSequence = 0, ThroughSequence = Before.Length, Decisions = Before.Length, Signals = Before.Length },
        ChampionVersion = 1,
        Verdict = verdict,
        Reason = "the turn being watched",
        DeployedVersion = deployed,
        DeployedAt = deployedAt,
    };

    private static Task LogAsync(ComponentRig rig, string prefix, int version, long firstSequence, double[] rewards, DateTimeOffset? at = null)
        => rig.LogRewardedAsync(prefix, version, firstSequence, rewards, at);
}

using Flywheel.Core;

namespace Flywheel.Engine.Tests.Registry;

/// <summary>The guardrail's automatic rollback restores the champion the deployed model replaced, as the manual one does.</summary>
public sealed class GuardrailRollbackTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private const int MinDecisions = 8;

    private static readonly double[] Good = [0.5, 1, 0.5, 1, 0.5, 1, 0.5, 1, 0.5, 1];

    private static readonly double[] Bad = [-0.25, -0.75, -0.25, -0.75, -0.25, -0.75, -0.25, -0.75];

    [Fact]
    public async Task TurnPromotedV3ThenV2ByHand_WorseV2_GuardrailRestoresV3NotTheLineageParent()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var runtime = await rig.PutLoopAsync(TestEngine.FeedLoop("feed") with { Turns = new TurnsConfig { MinDecisions = MinDecisions } });
        await rig.Parts.Registry.EnsureChampionRegisteredAsync(runtime, None);
        await LogAsync(rig, "a", version: 1, firstSequence: 1, Good, TestEngine.Start);
        await RegisterAsync(rig, runtime, 2, epsilon: 0.1);
        var v3 = await RegisterAsync(rig, runtime, 3, epsilon: 0.3);

        // A turn deploys v3 (parent v1), which serves well.
        rig.Time.Advance(TimeSpan.FromMinutes(10));
        var turn = new RegistryChange { Loop = "feed" };
        turn.Turns.Add(new TurnRecord
        {
            Loop = "feed",
            Number = 1,
            Trigger = TurnTrigger.Schedule,
            StartedAt = rig.Time.GetUtcNow(),
            FinishedAt = rig.Time.GetUtcNow(),
            Window = new DataWindow { AfterSequence = 0, ThroughSequence = Good.Length, Decisions = Good.Length, Signals = Good.Length },
            ChampionVersion = 1,
            Verdict = TurnVerdict.Promoted,
            Reason = "v3 won",
            DeployedVersion = 3,
            DeployedAt = rig.Time.GetUtcNow(),
        });
        await rig.Parts.Deployment.DeployAsync(runtime, v3, "promoted by turn 1", "replaced by v3 in turn 1", turn, None);
        await LogAsync(rig, "b", version: 3, firstSequence: 11, Good, rig.Time.GetUtcNow());
        var v3Served = Served(runtime);

        // v2 (parent v1 as well) is promoted by hand and serves worse than v3 did.
        rig.Time.Advance(TimeSpan.FromMinutes(10));
        var promoted = await rig.Parts.Turns.PromoteAsync(runtime, 2, "try it", None);
        Assert.Equal(3, promoted.ChampionVersion);
        await LogAsync(rig, "c", version: 2, firstSequence: 21, Bad, promoted.DeployedAt!.Value);
        rig.Time.Advance(TimeSpan.FromMinutes(30));

        await rig.Parts.Turns.RunScheduledTurnsAsync();

        var ledger = await rig.Store.LoadTurnsAsync("feed");
        Assert.Equal(3, ledger.Count);
        Assert.NotNull(ledger[1].Lift); // the measurement, committed with the rollback it caused
        Assert.Equal(3, ledger[1].Lift!.PredecessorVersion);
        var rollback = ledger[2];
        Assert.Equal((TurnTrigger.Guardrail, TurnVerdict.RolledBack, 2, 3), (rollback.Trigger, rollback.Verdict, rollback.ChampionVersion, rollback.DeployedVersion!.Value));
        Assert.EndsWith("; v3 serves again", rollback.Reason, StringComparison.Ordinal);
        Assert.Equal(3, runtime.ModelVersion);
        Assert.Equal(v3Served, Served(runtime));
        var models = await rig.Store.LoadModelsAsync("feed");
        Assert.Equal(ModelStatus.Champion, models.Single(m => m.Version == 3).Status);
        Assert.Equal(ModelStatus.Retired, models.Single(m => m.Version == 2).Status);
        Assert.Equal(3, (await rig.Store.LoadSnapshotAsync("feed"))!.Version);
        Assert.Equal(0.3, Assert.Single(await rig.Store.LoadLoopsAsync()).Exploration.EffectiveEpsilon);
    }

    /// <summary>The serving version, exploration and scores of one request, as text (equal when the same model serves).</summary>
    private static string Served(LoopRuntime runtime)
    {
        var request = TestEngine.Request();
        var scores = Decider.Score(runtime.Serving, request.Context!, request.Actions!);
        return $"v{runtime.Serving.Policy.Version} ε {runtime.Serving.Config.Exploration.EffectiveEpsilon} scores {string.Join(' ', scores.Select(s => s.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}";
    }

    private static async Task<ModelRecord> RegisterAsync(ComponentRig rig, LoopRuntime runtime, int version, double epsilon)
    {
        var exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = epsilon };
        var learner = runtime.Kind.CreateLearner(runtime.Config.Learner, exploration);
        // Weights that differ between the models: each learned a different share of the logged rewards.
        await foreach (var (decision, reward) in rig.Store.ReadRewardsAsync("feed", 0))
        {
            if (decision.DecisionId.EndsWith(version.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal) || version == 3)
            {
                learner.Learn(decision, reward.Reward, exploration);
            }
        }
        var model = new ModelRecord
        {
            Loop = runtime.Id,
            Version = version,
            ParentVersion = 1,
            Status = ModelStatus.Candidate,
            Learner = runtime.Config.Learner,
            Exploration = exploration,
            TrainedThrough = Good.Length,
            CreatedAt = rig.Time.GetUtcNow(),
            StatusChangedAt = rig.Time.GetUtcNow(),
            Reason = "trained for the test",
        };
        await rig.Store.SaveModelAsync(model);
        await rig.Store.SaveModelDataAsync(runtime.Id, version, learner.Save());
        return model;
    }

    private static Task LogAsync(ComponentRig rig, string prefix, int version, long firstSequence, double[] rewards, DateTimeOffset at)
        => rig.LogRewardedAsync(prefix, version, firstSequence, rewards, at);
}

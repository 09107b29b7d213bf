using Flywheel.Core;

namespace Flywheel.Engine.Tests.Evaluation;

/// <summary>
/// The evaluator over a handful of hand-written decisions. The loop explores with ε = 1, so the champion's distribution
/// is uniform whatever it predicts, and it has learned nothing, so its reward estimates are all 0: every figure can be
/// worked out by hand.
/// </summary>
public sealed class EvaluatorTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static readonly LoopConfig Config = TestEngine.FeedLoop("feed") with
    {
        Exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 1 },
    };

    // Decision i is made i minutes after the start and served with P[i], earning R[i]; two of them name a baseline.
    private static readonly double[] P = [0.8, 0.1, 0.5, 0.25, 0.5];
    private static readonly double[] R = [1, -0.5, 0.5, 1, 0];
    private static readonly string[] Chosen = ["v1", "v2", "v3", "v1", "v2"];
    private static readonly string?[] Baseline = ["v1", "v3", null, null, null];

    [Fact]
    public async Task Export_AllRows_GivesEachRewardedDecisionWithItsProbabilityAndReward()
    {
        await using var rig = await OpenAsync();
        var runtime = rig.Parts.Table.Get("feed");
        // A decision whose window is still open has no reward yet: nothing to export.
        var open = new StoreBatch();
        open.Decisions.Add(Decision(9, "v1", 0.5));
        await rig.Store.CommitAsync(open);

        var rows = await ExportAsync(rig, runtime, new ExportRequest());

        Assert.Equal(["d0", "d1", "d2", "d3", "d4"], rows.Select(r => r.DecisionId));
        Assert.Equal(P, rows.Select(r => r.Probability));
        Assert.Equal(R, rows.Select(r => r.Reward));
        Assert.Equal(Chosen, rows.Select(r => r.ChosenActionId));
        Assert.All(rows, r => Assert.Equal(["v1", "v2", "v3"], r.Actions.Select(a => a.Id)));
        Assert.All(rows, r => Assert.Null(r.TargetProbabilities));
        Assert.All(rows, r => Assert.Null(r.RewardEstimates));
    }

    [Fact]
    public async Task Export_TimeRange_KeepsDecisionsFromTheStartUpToButNotIncludingTheEnd()
    {
        await using var rig = await OpenAsync();
        var runtime = rig.Parts.Table.Get("feed");

        var rows = await ExportAsync(rig, runtime, new ExportRequest { From = TestEngine.Start.AddMinutes(1), To = TestEngine.Start.AddMinutes(3) });

        Assert.Equal(["d1", "d2"], rows.Select(r => r.DecisionId));
        var error = await Assert.ThrowsAsync<FlywheelValidationException>(() => ExportAsync(rig, runtime, new ExportRequest { From = TestEngine.Start.AddMinutes(3), To = TestEngine.Start }));
        Assert.Equal("to", error.Field);
    }

    [Fact]
    public async Task Export_WithAPolicy_AddsItsProbabilitiesAndRewardEstimates()
    {
        await using var rig = await OpenAsync();
        var runtime = rig.Parts.Table.Get("feed");

        var rows = await ExportAsync(rig, runtime, new ExportRequest { Policy = "champion" });

        Assert.Equal(5, rows.Count);
        foreach (var row in rows)
        {
            Assert.Equal(["v1", "v2", "v3"], row.TargetProbabilities!.Keys.Order());
            Assert.All(row.TargetProbabilities.Values, p => Assert.Equal(1.0 / 3, p, 12));
            Assert.All(row.RewardEstimates!.Values, q => Assert.Equal(0, q));
        }
        var unknown = await Assert.ThrowsAsync<FlywheelValidationException>(() => ExportAsync(rig, runtime, new ExportRequest { Policy = "v9" }));
        Assert.Equal("policy", unknown.Field);
        Assert.Equal(ValidationKind.NotFound, unknown.Kind);
        var bogus = await Assert.ThrowsAsync<FlywheelValidationException>(() => ExportAsync(rig, runtime, new ExportRequest { Policy = "best" }));
        Assert.Equal("policy", bogus.Field);
        Assert.Contains("'best' is not a policy", bogus.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_MismatchesOnly_KeepsDecisionsAShadowDisagreedWithAndTheRewardShowsOneWasWrong()
    {
        await using var rig = await OpenAsync();
        var runtime = rig.Parts.Table.Get("feed");
        var batch = new StoreBatch();
        // d10: the shadow disagreed and the served action earned below the default (0): the served side was wrong.
        // d11: the shadow disagreed but the reward (0.2) shows neither side clearly wrong. d12: the shadow agreed.
        (int I, string ShadowAction, double Reward)[] shadowed = [(10, "v2", -0.5), (11, "v3", 0.2), (12, "v1", -1)];
        foreach (var (i, shadowAction, reward) in shadowed)
        {
            batch.Decisions.Add(Decision(i, "v1", 0.5) with { Shadows = [new ShadowChoice(2, shadowAction, 0.6, 0.2)] });
            batch.Rewards.Add(Reward(i, sequence: i - 4, reward));
        }
        await rig.Store.CommitAsync(batch);

        var rows = await ExportAsync(rig, runtime, new ExportRequest { MismatchesOnly = true });

        Assert.Equal("d10", Assert.Single(rows).DecisionId);
    }

    [Fact]
    public async Task Evaluate_DefaultPolicies_MatchTheHandComputedFigures()
    {
        await using var rig = await OpenAsync();
        var runtime = rig.Parts.Table.Get("feed");

        var report = await rig.Parts.Evaluator.EvaluateAsync(runtime, new EvaluateRequest(), None);

        Assert.Equal("feed", report.Loop);
        Assert.Equal(5, report.Decisions);
        Assert.Equal("model", report.RewardEstimates);
        Assert.Equal(["champion", "logged", "uniform", "baseline"], report.Policies.Select(p => p.Policy));
        Assert.Equal([1, null, null, null], report.Policies.Select(p => p.Version));
        var uniformIps = Enumerable.Range(0, 5).Average(i => R[i] / (3 * P[i]));
        var champion = report.Policies[0].Estimates!;
        Assert.Equal(uniformIps, champion.Ips.Value, 12);
        Assert.Equal(0, champion.Dm.Value);
        Assert.Equal(uniformIps, champion.Dr.Value, 12);
        Assert.Equal(1 / (3 * 0.1), champion.MaxWeight, 12);
        // What was served, reweighted by nothing: the mean reward.
        Assert.Equal(R.Average(), report.Policies[1].Estimates!.Ips.Value, 12);
        Assert.Equal(uniformIps, report.Policies[2].Estimates!.Ips.Value, 12);
        // Two decisions name a baseline; only d0 served it: (1/0.8 + 0) / 2.
        var baseline = report.Policies[3].Estimates!;
        Assert.Equal(2, baseline.Count);
        Assert.Equal(1 / 0.8 / 2, baseline.Ips.Value, 12);
    }

    [Fact]
    public async Task Evaluate_TimeRangeAndUnservableDecisions_AreLeftOutAsExportLeavesThemOut()
    {
        await using var rig = await OpenAsync();
        var runtime = rig.Parts.Table.Get("feed");
        // A decision whose served action has no probability cannot be weighed: neither export nor evaluate uses it.
        var batch = new StoreBatch();
        batch.Decisions.Add(Decision(3, "v1", 0) with { DecisionId = "zero", At = TestEngine.Start.AddMinutes(2.5) });
        batch.Rewards.Add(Reward(3, sequence: 6, 1) with { DecisionId = "zero" });
        await rig.Store.CommitAsync(batch);
        var from = TestEngine.Start.AddMinutes(1);
        var to = TestEngine.Start.AddMinutes(4);

        var report = await rig.Parts.Evaluator.EvaluateAsync(runtime, new EvaluateRequest { From = from, To = to, Policies = ["uniform"] }, None);
        var rows = await ExportAsync(rig, runtime, new ExportRequest { From = from, To = to });

        Assert.Equal(["d1", "d2", "d3"], rows.Select(r => r.DecisionId));
        Assert.Equal(3, report.Decisions);
        Assert.Equal(from, report.From);
        Assert.Equal(to, report.To);
        // The export evaluates to the same figure by hand.
        Assert.Equal(rows.Average(r => r.Reward / (3 * r.Probability)), report.Policies[0].Estimates!.Ips.Value, 12);
        Assert.Equal((-0.5 / 0.3 + 0.5 / 1.5 + 1 / 0.75) / 3, report.Policies[0].Estimates!.Ips.Value, 12);
    }

    [Fact]
    public async Task Evaluate_RegisteredModelVersion_IsScoredWithItsStoredWeightsAndSettings()
    {
        await using var rig = await OpenAsync();
        var runtime = rig.Parts.Table.Get("feed");
        // v2 never explores and has learned that v3 pays: it serves v3 with probability 1.
        var greedy = new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 0 };
        await RegisterAsync(rig, runtime, 2, greedy, withWeights: true);
        await RegisterAsync(rig, runtime, 3, greedy, withWeights: false);

        var report = await rig.Parts.Evaluator.EvaluateAsync(runtime, new EvaluateRequest { Policies = ["v2", "v1"] }, None);

        var v2 = report.Policies[0];
        Assert.Equal(2, v2.Version);
        var pmf = await rig.Parts.Evaluator.PolicyProbabilitiesAsync(runtime, "v2", TestEngine.Request().Context, TestEngine.Request().Actions, None);
        Assert.Equal([0, 0, 1], pmf);
        // IPS of a deterministic policy: the rewards of the decisions that served its choice over their probability,
        // here only d2 (0.5 at p 0.5), over all five decisions.
        Assert.Equal(0.5 / 0.5 / 5, v2.Estimates!.Ips.Value, 12);
        Assert.True(v2.Estimates.Dm.Value > 0, "its own reward estimates are those of a learner that has learned v3 pays");
        // The serving version by number is the champion.
        Assert.Equal(1, report.Policies[1].Version);
        var conflict = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await rig.Parts.Evaluator.EvaluateAsync(runtime, new EvaluateRequest { Policies = ["uniform", "v3"] }, None));
        Assert.Equal("policies[1]", conflict.Field);
        Assert.Equal(ValidationKind.Conflict, conflict.Kind);
    }

    [Fact]
    public async Task Evaluate_NoPolicies_IsRejectedNamingTheField()
    {
        await using var rig = await OpenAsync();
        var runtime = rig.Parts.Table.Get("feed");

        var none = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await rig.Parts.Evaluator.EvaluateAsync(runtime, new EvaluateRequest { Policies = [] }, None));
        Assert.Equal("policies", none.Field);
        var bad = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await rig.Parts.Evaluator.EvaluateAsync(runtime, new EvaluateRequest { Policies = ["logged", "v0x"] }, None));
        Assert.Equal("policies[1]", bad.Field);
        var backwards = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await rig.Parts.Evaluator.EvaluateAsync(runtime, new EvaluateRequest { From = TestEngine.Start, To = TestEngine.Start.AddSeconds(-1) }, None));
        Assert.Equal("to", backwards.Field);
    }

    /// <summary>A rig with the loop and its five rewarded decisions (reward sequences 1…5).</summary>
    private static async Task<ComponentRig> OpenAsync()
    {
        var rig = await ComponentRig.OpenAsync(start: false);
        await rig.PutLoopAsync(Config);
        var batch = new StoreBatch();
        for (var i = 0; i < P.Length; i++)
        {
            batch.Decisions.Add(Decision(i, Chosen[i], P[i]) with { BaselineActionId = Baseline[i] });
            batch.Rewards.Add(Reward(i, sequence: i + 1, R[i]));
        }
        await rig.Store.CommitAsync(batch);
        return rig;
    }

    private static async Task<List<LoggedDecision>> ExportAsync(ComponentRig rig, LoopRuntime runtime, ExportRequest request)
    {
        var rows = new List<LoggedDecision>();
        await foreach (var row in rig.Parts.Evaluator.ExportAsync(runtime, request, None))
        {
            rows.Add(row);
        }
        return rows;
    }

    private static async Task RegisterAsync(ComponentRig rig, LoopRuntime runtime, int version, ExplorationConfig exploration, bool withWeights)
    {
        await rig.Store.SaveModelAsync(new ModelRecord
        {
            Loop = runtime.Id,
            Version = version,
            ParentVersion = 1,
            Status = ModelStatus.Candidate,
            Learner = runtime.Config.Learner,
            Exploration = exploration,
            TrainedThrough = withWeights ? 0 : null,
            CreatedAt = TestEngine.Start,
            StatusChangedAt = TestEngine.Start,
            Reason = "registered for the test",
        });
        if (withWeights)
        {
            var learner = runtime.Kind.CreateLearner(runtime.Config.Learner, exploration);
            for (var i = 0; i < 30; i++)
            {
                var chosen = $"v{1 + (i % 3)}";
                learner.Learn(Decision(100 + i, chosen, 1.0 / 3), chosen == "v3" ? 1 : -1, exploration);
            }
            await rig.Store.SaveModelDataAsync(runtime.Id, version, learner.Save());
        }
    }

    private static DecisionRecord Decision(int i, string chosen, double p)
    {
        var request = TestEngine.Request($"d{i}");
        return new DecisionRecord
        {
            Loop = "feed",
            DecisionId = $"d{i}",
            At = TestEngine.Start.AddMinutes(i),
            Context = request.Context,
            Actions = request.Actions,
            ChosenActionId = chosen,
            Explored = false,
            Ranking = [new RankedAction(chosen, p), .. request.Actions.Where(a => a.Id != chosen).Select(a => new RankedAction(a.Id, (1 - p) / 2))],
            ModelVersion = 1,
        };
    }

    private static RewardRecord Reward(int i, long sequence, double reward) => new()
    {
        Loop = "feed",
        DecisionId = $"d{i}",
        Sequence = sequence,
        Reward = reward,
        SignalCount = 1,
        ClosedAt = TestEngine.Start.AddMinutes(i).AddSeconds(30),
        ClosedBy = WindowClose.Signal,
    };
}

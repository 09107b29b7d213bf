using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Engine.Tests.Turns;

/// <summary>A turn's replay (<see cref="LogReplay"/> driving <see cref="CandidateReplay"/>s) over small hand-written logs.</summary>
public sealed class CandidateReplayTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static readonly LoopConfig Config = TestEngine.FeedLoop("feed");

    private static readonly ILoopKind Kind = LoopKinds.For(Config);

    /// <summary>ε = 1 spreads every decision evenly over the actions, whatever the learner predicts.</summary>
    private static readonly ExplorationConfig Uniform = new() { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 1 };

    [Fact]
    public async Task Replay_Window_CountsTheDecisionsAndSignalsAfterThePosition()
    {
        await using var rig = await OpenAsync();
        int[] signals = [1, 2, 0, 3, 1, 2];
        await LogAsync(rig, signals.Select((s, i) => Row(i, chosen: "v1", p: 0.5, reward: 1, signals: s)).ToArray());
        var replica = Replay("champion", Config.Exploration);

        var result = await LogReplay.ReplayAsync(rig.Store, Kind, "feed", Config, after: 2, through: 5, replica, [], None);

        var window = result.Window;
        Assert.Equal(2, window.AfterSequence);
        Assert.Equal(5, window.ThroughSequence);
        Assert.Equal(3, window.Decisions);
        Assert.Equal(0 + 3 + 1, window.Signals);
        Assert.Equal(TestEngine.Start.AddSeconds(2), window.From);
        Assert.Equal(TestEngine.Start.AddSeconds(4), window.To);
        Assert.Equal(3, result.Logged.Count);
        Assert.Equal(3, replica.Estimates(1.96).Count);
        // Every reward through the window is learned, those before it too; the sixth is beyond it.
        Assert.Equal(5, replica.LearnedThrough);
        Assert.Equal(5, replica.Learner.Examples);
    }

    [Fact]
    public async Task Replay_UniformPolicies_MatchTheHandComputedIps()
    {
        await using var rig = await OpenAsync();
        // Four decisions over three actions, served with these probabilities, earning these rewards.
        double[] p = [0.8, 0.1, 0.5, 0.25];
        double[] r = [1, -0.5, 0.5, 1];
        await LogAsync(rig, Enumerable.Range(0, 4).Select(i => Row(i, chosen: $"v{1 + (i % 3)}", p: p[i], reward: r[i], signals: 1)).ToArray());
        var replica = Replay("champion", Config.Exploration);
        var uniform = Replay("ε = 1", Uniform);

        var result = await LogReplay.ReplayAsync(rig.Store, Kind, "feed", Config, after: 0, through: 4, replica, [uniform], None);

        // IPS of the uniform policy: mean of r / (3p) = (1/2.4 − 0.5/0.3 + 0.5/1.5 + 1/0.75) / 4.
        var expected = (1 / 2.4 - 0.5 / 0.3 + 0.5 / 1.5 + 1 / 0.75) / 4;
        var weights = p.Select(x => 1 / (3 * x)).ToArray();
        var ess = Math.Pow(weights.Sum(), 2) / weights.Sum(w => w * w);
        var reference = result.Uniform.GetEstimates();
        Assert.Equal(expected, reference.Ips.Value, 12);
        Assert.Equal(ess, reference.EffectiveSampleSize, 12);
        Assert.Equal(1 / 0.3, reference.MaxWeight, 12);
        var candidate = uniform.Estimates(1.96);
        Assert.Equal(expected, candidate.Ips.Value, 12);
        Assert.Equal(ess, candidate.EffectiveSampleSize, 12);
        // What was served is the logging policy itself: w = 1, so IPS is the mean reward.
        Assert.Equal(r.Average(), result.Logged.GetEstimates().Ips.Value, 12);
        Assert.Equal(4, result.Logged.GetEstimates().EffectiveSampleSize, 12);
        Assert.Equal(0, result.Baseline.Count);
    }

    [Fact]
    public async Task Replay_Baseline_WeighsOnlyDecisionsThatServedIt()
    {
        await using var rig = await OpenAsync();
        // The baseline was served twice (p 0.8 and 0.5) and passed over once; the fourth decision names no baseline.
        await LogAsync(rig,
            Row(0, chosen: "v1", p: 0.8, reward: 1, signals: 1, baseline: "v1"),
            Row(1, chosen: "v2", p: 0.1, reward: -1, signals: 1, baseline: "v1"),
            Row(2, chosen: "v3", p: 0.5, reward: 0.5, signals: 1, baseline: "v3"),
            Row(3, chosen: "v1", p: 0.5, reward: 1, signals: 1));
        var replica = Replay("champion", Config.Exploration);

        var result = await LogReplay.ReplayAsync(rig.Store, Kind, "feed", Config, after: 0, through: 4, replica, [], None);

        var baseline = result.Baseline.GetEstimates();
        Assert.Equal(3, baseline.Count);
        Assert.Equal((1 / 0.8 + 0 + 0.5 / 0.5) / 3, baseline.Ips.Value, 12);
    }

    [Fact]
    public async Task Replay_RewardsStillOpenWhenADecisionWasMade_AreNotKnownWhenItIsJudged()
    {
        // Every window closes after the last decision: each decision is judged by an untrained learner, whose predictions
        // are all 0, so the direct method is exactly 0. When each window closes before the next decision, the later
        // decisions are judged with what was learned, and it is not.
        var late = await ReplayDirectMethodAsync(closeAfterSeconds: 100);
        var early = await ReplayDirectMethodAsync(closeAfterSeconds: 0.5);

        Assert.Equal(0, late.Dm.Value);
        Assert.Equal(late.Ips.Value, late.Dr.Value, 12);
        Assert.NotEqual(0, early.Dm.Value);
    }

    [Fact]
    public async Task Replay_SameSeed_GivesTheSameEstimatesAndWeights()
    {
        await using var rig = await OpenAsync();
        var rows = Enumerable.Range(0, 300)
            .Select(i => Row(i, chosen: $"v{1 + (i * 7 % 3)}", p: i % 4 == 0 ? 0.2 : 0.6, reward: (i * 13 % 5 - 2) / 2.0, signals: 1 + i % 3, country: i % 2 == 0 ? "fr" : "de"))
            .ToArray();
        await LogAsync(rig, rows);
        // Bagging draws bootstrap weights from the seed: the settings where a seed matters most.
        var bag = new ExplorationConfig { Algorithm = ExplorationAlgorithm.Bag, Bags = 3 };

        async Task<(OffPolicyEstimates Champion, OffPolicyEstimates Candidate, byte[] Weights, DataWindow Window)> RunAsync()
        {
            var replica = Replay("champion", Config.Exploration, seed: 42);
            var candidate = Replay("bag", bag, seed: 43);
            var result = await LogReplay.ReplayAsync(rig.Store, Kind, "feed", Config, after: 100, through: 300, replica, [candidate], None);
            return (replica.Estimates(1.96), candidate.Estimates(1.96), candidate.Learner.Save(), result.Window);
        }

        var first = await RunAsync();
        var second = await RunAsync();

        Assert.Equal(first.Champion, second.Champion);
        Assert.Equal(first.Candidate, second.Candidate);
        Assert.Equal(first.Weights, second.Weights);
        Assert.Equal(first.Window, second.Window);
        Assert.Equal(200, first.Window.Decisions);
    }

    [Fact]
    public async Task Replay_MismatchWeight_LearnsShadowMismatchesThatManyTimes()
    {
        await using var rig = await OpenAsync();
        var shadow = new ShadowChoice(2, "v2", 0.9, 0.05);
        // A mismatch: the shadow chose otherwise and the served action earned less than the default (0).
        await LogAsync(rig,
            Row(0, chosen: "v1", p: 0.8, reward: -1, signals: 1),
            Row(1, chosen: "v1", p: 0.8, reward: 1, signals: 1));
        await rig.Store.CommitAsync(Batch(Row(2, chosen: "v1", p: 0.8, reward: -1, signals: 1), shadow));
        var config = Config with { Turns = Config.Turns with { MismatchWeight = 3 } };
        var replica = new CandidateReplay(Kind, "champion", config.Learner, config.Exploration, config, seed: 1);

        await LogReplay.ReplayAsync(rig.Store, Kind, "feed", config, after: 0, through: 3, replica, [], None);

        // Two plain rows once each, the mismatch three times.
        Assert.Equal(2 + 3, replica.Learner.Examples);
    }

    [Fact]
    public void ReplayRow_ChosenActionNotAmongTheActions_IsSkipped()
    {
        var (decision, reward) = Row(0, chosen: "v1", p: 0.5, reward: 1, signals: 1);
        var row = new ReplayRow();

        Assert.True(row.Set(Kind, decision, reward, Config.Turns, Config.Reward));
        Assert.Equal(0, row.Chosen);
        Assert.Equal([0.5, 0.25, 0.25], row.Logged);
        Assert.Equal(-1, row.Baseline);
        Assert.False(row.Set(Kind, decision with { ChosenActionId = "gone", Ranking = [new RankedAction("gone", 1)] }, reward, Config.Turns, Config.Reward));
    }

    private static async Task<OffPolicyEstimates> ReplayDirectMethodAsync(double closeAfterSeconds)
    {
        await using var rig = await OpenAsync();
        var rows = Enumerable.Range(0, 12)
            .Select(i => Row(i, chosen: $"v{1 + (i % 3)}", p: 0.5, reward: i % 3 == 0 ? 1 : -0.5, signals: 1, closeAfterSeconds: closeAfterSeconds))
            .ToArray();
        await LogAsync(rig, rows);
        var candidate = Replay("ε = 1", Uniform);
        await LogReplay.ReplayAsync(rig.Store, Kind, "feed", Config, after: 0, through: 12, Replay("champion", Config.Exploration), [candidate], None);
        return candidate.Estimates(1.96);
    }

    private static CandidateReplay Replay(string name, ExplorationConfig exploration, ulong seed = 1)
        => new(Kind, name, Config.Learner, exploration, Config, seed);

    private static async Task<ComponentRig> OpenAsync()
    {
        var rig = await ComponentRig.OpenAsync(start: false);
        await rig.Store.SaveLoopAsync(Config);
        return rig;
    }

    /// <summary>
    /// Decision <paramref name="i"/>, made i seconds after the start, served <paramref name="chosen"/> with probability
    /// <paramref name="p"/> (the other two actions share the rest); its reward is sequence i + 1.
    /// </summary>
    private static (DecisionRecord Decision, RewardRecord Reward) Row(int i, string chosen, double p, double reward, int signals, string? baseline = null, string country = "fr", double closeAfterSeconds = 0.5)
    {
        var request = TestEngine.Request($"d{i}", country);
        var at = TestEngine.Start.AddSeconds(i);
        var decision = new DecisionRecord
        {
            Loop = "feed",
            DecisionId = $"d{i}",
            At = at,
            Context = request.Context,
            Actions = request.Actions,
            BaselineActionId = baseline,
            ChosenActionId = chosen,
            Explored = false,
            Ranking = [new RankedAction(chosen, p), .. request.Actions.Where(a => a.Id != chosen).Select(a => new RankedAction(a.Id, (1 - p) / 2))],
            ModelVersion = 1,
        };
        var rewardRecord = new RewardRecord
        {
            Loop = "feed",
            DecisionId = $"d{i}",
            Sequence = i + 1,
            Reward = reward,
            SignalCount = signals,
            ClosedAt = at.AddSeconds(closeAfterSeconds),
            ClosedBy = WindowClose.Signal,
        };
        return (decision, rewardRecord);
    }

    private static StoreBatch Batch((DecisionRecord Decision, RewardRecord Reward) row, ShadowChoice? shadow = null)
    {
        var batch = new StoreBatch();
        batch.Decisions.Add(shadow is null ? row.Decision : row.Decision with { Shadows = [shadow] });
        batch.Rewards.Add(row.Reward);
        return batch;
    }

    private static async Task LogAsync(ComponentRig rig, params (DecisionRecord Decision, RewardRecord Reward)[] rows)
    {
        var batch = new StoreBatch();
        foreach (var (decision, reward) in rows)
        {
            batch.Decisions.Add(decision);
            batch.Rewards.Add(reward);
        }
        await rig.Store.CommitAsync(batch);
    }
}

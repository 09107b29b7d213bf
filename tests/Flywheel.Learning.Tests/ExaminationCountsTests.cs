using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Learning.Tests;

public class ExaminationCountsTests
{
    private static SlotReward[] Slots(params int[] engaged)
        => [.. engaged.Select((e, i) => new SlotReward(i + 1, $"a{i}", e, e))];

    private static ExaminationCounts Counts(int decisions, int[] engaged)
    {
        var counts = new ExaminationCounts();
        for (var d = 0; d < decisions; d++)
        {
            counts.Add(Slots([.. engaged.Select(e => d < e ? 1 : 0)]));
        }
        return counts;
    }

    [Fact]
    public void Estimate_HandCounts_RatioOfEngagementRatesWithTheKatzInterval()
    {
        // 400 shuffled decisions: slot 1 engaged 200 times, slot 2 100 times, slot 3 never.
        var counts = Counts(400, [200, 100, 0]);

        Assert.Equal((1.0, 1.0, 1.0), counts.Estimate(1));
        var (value, lower, upper) = counts.Estimate(2);
        Assert.Equal(0.5, value, 12);
        var spread = 1.959963984540054 * Math.Sqrt(1.0 / 100 - 1.0 / 400 + 1.0 / 200 - 1.0 / 400);
        Assert.Equal(0.5 * Math.Exp(-spread), lower, 12);
        Assert.Equal(0.5 * Math.Exp(spread), upper, 12);
        var (never, neverLower, neverUpper) = counts.Estimate(3);
        Assert.Equal(0, never);
        Assert.Equal(0, neverLower);
        Assert.True(neverUpper is > 0 and < 0.05);
        Assert.True(double.IsNaN(counts.Estimate(4).Value));
    }

    [Fact]
    public void Used_ByMode_NoneGivenOrTheEstimateOnceThereIsEnough()
    {
        var few = Counts(40, [20, 10]);
        var enough = Counts(400, [200, 100]);

        Assert.Equal(1, enough.Used(PositionBias.None, 2));
        Assert.Equal(0.3, enough.Used(PositionBias.Given(1, 0.3), 5));
        Assert.Equal(1, few.Used(PositionBias.Estimate, 2));
        Assert.Equal(0.5, enough.Used(PositionBias.Estimate, 2), 12);
        Assert.Equal(ExaminationCounts.MinimumExamination, Counts(400, [200, 1]).Used(PositionBias.Estimate, 2));
    }

    [Fact]
    public void Report_EverySlot_WithCountsAndTheValueUsed()
    {
        var report = Counts(400, [200, 100]).Report("search", PositionBias.Estimate, 3);

        Assert.Equal(400, report.Interventions);
        Assert.Equal([1, 2, 3], report.Slots.Select(s => s.Slot));
        Assert.Equal([400L, 400L, 0L], report.Slots.Select(s => s.Decisions));
        Assert.Equal([200L, 100L, 0L], report.Slots.Select(s => s.Engaged));
        Assert.True(double.IsNaN(report.Slots[2].Examination));
        Assert.Equal(1, report.Slots[2].Used);
        Assert.Contains("\"examination\":null", FlywheelJson.Serialize(report), StringComparison.Ordinal);
    }

    [Fact]
    public void SaveLoad_RankLearner_KeepsWeightsAndCounts()
    {
        var config = new LoopConfig { Id = "search", Kind = LoopKind.Rank, Signals = new Dictionary<string, SignalTypeConfig> { ["click"] = new() { Weight = 1 } } };
        var learner = RankKind.Instance.CreateLearner(config.Learner, config.Exploration);
        var decision = new DecisionRecord
        {
            Loop = "search", DecisionId = "d1", At = DateTimeOffset.UnixEpoch, Context = new Features(),
            Actions = [new ActionCandidate("a0"), new ActionCandidate("a1")], ChosenActionId = "a1", Explored = true, Intervened = true, ModelVersion = 1,
            Ranking = [new RankedAction("a1", 0.5) { Slot = 1 }, new RankedAction("a0", 1) { Slot = 2 }],
        };
        var reward = new RewardRecord
        {
            Loop = "search", DecisionId = "d1", Sequence = 1, Reward = 1, SignalCount = 1, ClosedAt = DateTimeOffset.UnixEpoch, ClosedBy = WindowClose.Timeout,
            Slots = [new SlotReward(1, "a1", 0, 0), new SlotReward(2, "a0", 1, 1)],
        };
        learner.Learn(decision, reward, config);

        var restored = RankKind.Instance.LoadLearner(learner.Save(), config.Learner, config.Exploration);

        Assert.Equal(learner.Save(), restored.Save());
        Assert.Equal(2, restored.Examples);
        var report = ((IRankingPolicy)restored.Publish(1)).PositionBias(config);
        Assert.Equal(1, report.Interventions);
        Assert.Equal([0L, 1L], report.Slots.Take(2).Select(s => s.Engaged));
        var corrupt = learner.Save();
        corrupt[12] ^= 1;
        Assert.Throws<ModelSnapshotException>(() => RankKind.Instance.LoadLearner(corrupt, config.Learner, config.Exploration));
    }
}

using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests.Ingest;

public sealed class JoinerTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A signal sent <c>Seconds</c> after the decision; a null type advances the clock only.</summary>
    public sealed record Step(double Seconds, string Type, double? Value = null, string? SignalId = null);

    public static TheoryData<string, RewardAggregate, double, double, double, Step[], double, int> Cases => new()
    {
        { "no signal gives the default", RewardAggregate.Sum, -1, 1, 0.25, [], 0.25, 0 },
        { "sum of weighted signals", RewardAggregate.Sum, -1, 2, 0, [new(10, "watch_complete"), new(20, "rewatch")], 1.5, 0 },
        { "value multiplies the weight", RewardAggregate.Sum, -1, 2, 0, [new(10, "stars", 4)], 1.0, 0 },
        { "sum clamped at max", RewardAggregate.Sum, -1, 1, 0, [new(10, "watch_complete"), new(20, "thumbs_up")], 1.0, 0 },
        { "sum clamped at min", RewardAggregate.Sum, -1, 1, 0, [new(10, "thumbs_down"), new(20, "thumbs_down")], -1.0, 0 },
        { "max takes the largest term", RewardAggregate.Max, -1, 1, 0, [new(10, "rewatch"), new(20, "thumbs_down"), new(30, "watch_complete")], 1.0, 0 },
        { "max of negatives", RewardAggregate.Max, -1, 1, 0, [new(10, "thumbs_down"), new(20, "stars", -1)], -0.25, 0 },
        { "last takes the latest term", RewardAggregate.Last, -1, 1, 0, [new(10, "watch_complete"), new(20, "rewatch")], 0.5, 0 },
        { "closesWindow ends the window at once", RewardAggregate.Sum, -1, 1, 0, [new(5, "skip"), new(50, "watch_complete")], -0.5, 1 },
        { "signal after the window is late", RewardAggregate.Sum, -1, 1, 0, [new(100, "rewatch"), new(700, "watch_complete")], 0.5, 1 },
        { "signal at the window's end is late", RewardAggregate.Sum, -1, 1, 0, [new(600, "watch_complete")], 0, 1 },
        { "signal just before the end counts", RewardAggregate.Sum, -1, 1, 0, [new(599, "watch_complete")], 1.0, 0 },
        { "duplicate signal id counts once", RewardAggregate.Sum, -1, 2, 0, [new(10, "watch_complete", null, "s1"), new(20, "watch_complete", null, "s1")], 1.0, 0 },
        { "late signals never change the reward", RewardAggregate.Sum, -1, 1, 0, [new(5, "thumbs_up"), new(900, "thumbs_down"), new(1000, "thumbs_down")], 1.0, 2 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Reward_Signals_FollowTheLoopRule(string name, RewardAggregate aggregate, double min, double max, double @default, Step[] steps, double expected, int expectedLate)
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop(aggregate: aggregate, min: min, max: max, @default: @default));
        var decision = await engine.DecideAsync("home-feed", TestEngine.Request());
        var elapsed = 0.0;
        foreach (var step in steps)
        {
            time.Advance(TimeSpan.FromSeconds(step.Seconds - elapsed));
            elapsed = step.Seconds;
            await engine.RecordSignalsAsync("home-feed", [new SignalInput { DecisionId = decision.DecisionId, Type = step.Type, Value = step.Value, SignalId = step.SignalId }]);
        }
        time.Advance(TimeSpan.FromSeconds(Math.Max(0, 601 - elapsed)));
        await engine.FlushAsync();

        var audit = await engine.GetDecisionAsync("home-feed", decision.DecisionId);
        Assert.NotNull(audit?.Reward);
        Assert.True(Math.Abs(expected - audit.Reward.Reward) < 1e-12, $"{name}: reward {audit.Reward.Reward}, expected {expected}");
        Assert.Equal(expectedLate, audit.Signals.Count(s => s.Late));
        Assert.Equal(steps.Select(s => s.SignalId ?? Guid.NewGuid().ToString()).Distinct().Count(), audit.Signals.Count);
        var counts = await engine.GetCountsAsync("home-feed");
        Assert.Equal(expectedLate, counts.LateSignals);
    }

    [Fact]
    public async Task Decide_SameDecisionId_ReturnsTheStoredAnswerAndStoresOnce()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop());
        var first = await engine.DecideAsync("home-feed", TestEngine.Request("retry-me"));
        time.Advance(TimeSpan.FromSeconds(5));
        var again = await engine.DecideAsync("home-feed", TestEngine.Request("retry-me", country: "de"));
        Assert.Equal(first.ChosenActionId, again.ChosenActionId);
        Assert.Equal(first.Ranking, again.Ranking);

        // Also after the window closed and the decision left memory.
        time.Advance(TimeSpan.FromSeconds(700));
        await engine.FlushAsync();
        var late = await engine.DecideAsync("home-feed", TestEngine.Request("retry-me"));
        Assert.Equal(first.Ranking, late.Ranking);
        Assert.Equal(1, (await engine.GetCountsAsync("home-feed")).Decisions);
    }

    [Fact]
    public async Task Decide_ConcurrentRetriesOfOneId_StoreOneDecision()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop());
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => engine.DecideAsync("home-feed", TestEngine.Request("same")).AsTask()));
        Assert.Single(answers.Select(a => a.ChosenActionId).Distinct());
        Assert.Equal(1, (await engine.GetCountsAsync("home-feed")).Decisions);
    }

    [Fact]
    public async Task RecordSignals_UserLevelAndUnknownDecision_AreStoredAndCounted()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop());
        var result = await engine.RecordSignalsAsync("home-feed",
        [
            new SignalInput { UserId = "u-42", Type = "return_visit" },
            new SignalInput { DecisionId = "never-made", Type = "watch_complete" },
            new SignalInput { DecisionId = "never-made", Type = "watch_complete", SignalId = "x" },
            new SignalInput { DecisionId = "never-made", Type = "watch_complete", SignalId = "x" },
        ]);
        Assert.Equal(new SignalBatchResult(Accepted: 3, Duplicates: 1, Orphaned: 2, Late: 0), result);
        var counts = await engine.GetCountsAsync("home-feed");
        Assert.Equal(3, counts.Signals);
        Assert.Equal(2, counts.OrphanedSignals);
    }

    [Fact]
    public async Task RecordSignals_RetriedBatch_IsAllDuplicates()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop());
        var d = await engine.DecideAsync("home-feed", TestEngine.Request());
        SignalInput[] batch = [new() { SignalId = "a", DecisionId = d.DecisionId, Type = "watch_complete" }, new() { SignalId = "b", DecisionId = d.DecisionId, Type = "thumbs_up" }];
        Assert.Equal(new SignalBatchResult(2, 0, 0, 0), await engine.RecordSignalsAsync("home-feed", batch));
        Assert.Equal(new SignalBatchResult(0, 2, 0, 0), await engine.RecordSignalsAsync("home-feed", batch));
        time.Advance(TimeSpan.FromMinutes(11));
        await engine.FlushAsync();
        Assert.Equal(new SignalBatchResult(0, 2, 0, 0), await engine.RecordSignalsAsync("home-feed", batch));
        var audit = await engine.GetDecisionAsync("home-feed", d.DecisionId);
        Assert.Equal(1.0, audit!.Reward!.Reward);
        Assert.Equal(2, audit.Signals.Count);
    }
}

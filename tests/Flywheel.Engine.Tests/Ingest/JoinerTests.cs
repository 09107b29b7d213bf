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
        // An identical retry (another request under the same id is a conflict: ConflictTests).
        var again = await engine.DecideAsync("home-feed", TestEngine.Request("retry-me"));
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

    // Direct tests of the static Joiner, on a loop runtime without an engine around it.

    private static DecisionRecord Record(string id, double secondsAfterStart) => new()
    {
        Loop = "home-feed",
        DecisionId = id,
        At = TestEngine.Start.AddSeconds(secondsAfterStart),
        Context = TestEngine.Request().Context,
        Actions = TestEngine.Request().Actions,
        ChosenActionId = "v1",
        Explored = false,
        Ranking = [new("v1", 0.5), new("v2", 0.25), new("v3", 0.25)],
        ModelVersion = 1,
    };

    private static LoopRuntime Open(LoopConfig config, params (string Id, double At)[] decisions)
    {
        var loop = new LoopRuntime(config, TestEngine.Start);
        foreach (var (id, at) in decisions)
        {
            var record = Record(id, at);
            Joiner.Open(loop, record, DecisionPayload.Serialize(record.Context, record.Actions));
        }
        return loop;
    }

    [Fact]
    public void Open_Decision_PendsUntilItsWindowEndsWithItsFeatures()
    {
        var loop = Open(TestEngine.FeedLoop(), ("a", 30));

        var pending = Assert.Single(loop.Windows.Pending).Value;
        Assert.Equal(TestEngine.Start.AddSeconds(630), pending.CloseAt);
        Assert.Empty(pending.Signals);
        var restored = pending.Restore();
        Assert.Equal("cooking", restored.Actions[0].Features["item"]["topic"].Text);
        Assert.Equal("fr", restored.Context["user"]["country"].Text);
    }

    [Fact]
    public void CloseDue_SomeWindowsDue_ClosesOnlyThoseInDueOrder()
    {
        // Opened out of time order: the due queue, not the opening order, decides.
        var loop = Open(TestEngine.FeedLoop(), ("c", 20), ("a", 0), ("b", 10));
        var batch = new StoreBatch();
        var closed = new List<ClosedReward>();

        Joiner.CloseDue(loop, TestEngine.Start.AddSeconds(610), batch, closed);

        Assert.Equal(["a", "b"], closed.Select(c => c.Reward.DecisionId));
        Assert.Equal([1L, 2L], closed.Select(c => c.Reward.Sequence));
        Assert.Equal([TestEngine.Start.AddSeconds(600), TestEngine.Start.AddSeconds(610)], closed.Select(c => c.Reward.ClosedAt));
        Assert.All(closed, c => Assert.Equal(WindowClose.Timeout, c.Reward.ClosedBy));
        Assert.Equal(closed.Select(c => c.Reward), batch.Rewards);
        Assert.Equal(["c"], loop.Windows.Pending.Keys);

        Joiner.CloseDue(loop, TestEngine.Start.AddSeconds(619.999), batch, closed);
        Assert.Equal(2, closed.Count);
        Joiner.CloseDue(loop, TestEngine.Start.AddSeconds(620), batch, closed);
        Assert.Equal(("c", 3L), (closed[2].Reward.DecisionId, closed[2].Reward.Sequence));
        Assert.Empty(loop.Windows.Pending);
    }

    [Fact]
    public void CloseDue_WindowAlreadyClosedBySignal_IsNotClosedAgain()
    {
        var loop = Open(TestEngine.FeedLoop(), ("a", 0));
        var batch = new StoreBatch();
        var closed = new List<ClosedReward>();
        Joiner.Close(loop, loop.Windows.Pending["a"], TestEngine.Start.AddSeconds(5), WindowClose.Signal, batch, closed);

        Joiner.CloseDue(loop, TestEngine.Start.AddSeconds(700), batch, closed);

        Assert.Single(closed);
        Assert.Single(batch.Rewards);
        Assert.Equal(0, loop.Windows.DueQueue.Count);
        Assert.Equal(2, loop.Windows.NextRewardSequence);
    }

    [Theory]
    [InlineData(WindowClose.Timeout)]
    [InlineData(WindowClose.Signal)]
    public void Close_EachReason_RecordsReasonTimeAndTheLoopRulesReward(WindowClose reason)
    {
        var loop = Open(TestEngine.FeedLoop(max: 2), ("a", 0), ("b", 1));
        var pending = loop.Windows.Pending["b"];
        pending.Signals.Add(new("watch_complete", 1));
        pending.Signals.Add(new("rewatch", 1));
        var batch = new StoreBatch();
        var closed = new List<ClosedReward>();
        var at = TestEngine.Start.AddSeconds(42);

        Joiner.Close(loop, pending, at, reason, batch, closed);

        var reward = Assert.Single(batch.Rewards);
        Assert.Equal(reason, reward.ClosedBy);
        Assert.Equal(at, reward.ClosedAt);
        Assert.Equal(("home-feed", "b", 1L), (reward.Loop, reward.DecisionId, reward.Sequence));
        Assert.Equal(1.5, reward.Reward, 12);
        Assert.Equal(2, reward.SignalCount);
        var entry = Assert.Single(closed);
        Assert.Same(pending, entry.Decision);
        Assert.Same(loop, entry.Loop);
        Assert.Same(reward, entry.Reward);
        Assert.Equal(["a"], loop.Windows.Pending.Keys);
    }

    [Fact]
    public void Close_NoSignals_GivesTheLoopsDefault()
    {
        var loop = Open(TestEngine.FeedLoop(@default: 0.25), ("a", 0));
        var batch = new StoreBatch();

        Joiner.Close(loop, loop.Windows.Pending["a"], TestEngine.Start.AddSeconds(600), WindowClose.Timeout, batch, []);

        Assert.Equal(0.25, batch.Rewards[0].Reward, 12);
        Assert.Equal(0, batch.Rewards[0].SignalCount);
    }

    [Fact]
    public async Task LoadAsync_StoredLoop_RestoresOpenWindowsTheirSignalsAndTheNextSequence()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var live = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var decide = rig.Parts.Decider;
        var ingest = rig.Parts.Ingest;
        await decide.DecideAsync(live, TestEngine.Request("closed-1"), CancellationToken.None);
        await decide.DecideAsync(live, TestEngine.Request("closed-2"), CancellationToken.None);
        await ingest.RecordSignalsAsync(live, [new SignalInput { DecisionId = "closed-2", Type = "skip" }], CancellationToken.None);
        rig.Time.Advance(TimeSpan.FromSeconds(601));
        await decide.DecideAsync(live, TestEngine.Request("open-1"), CancellationToken.None);
        rig.Time.Advance(TimeSpan.FromSeconds(30));
        await decide.DecideAsync(live, TestEngine.Request("open-2"), CancellationToken.None);
        await ingest.RecordSignalsAsync(live, [new SignalInput { DecisionId = "open-1", Type = "stars", Value = 2 }, new SignalInput { DecisionId = "open-1", Type = "rewatch" }], CancellationToken.None);
        await ingest.FlushAsync(CancellationToken.None);

        // A fresh runtime, as at start-up, with a stale window that loading must drop.
        var loop = Open(live.Config, ("stale", 0));
        var open = await Joiner.LoadAsync(rig.Store, loop, CancellationToken.None);

        Assert.Equal(2, open);
        Assert.Equal(["open-1", "open-2"], loop.Windows.Pending.Keys.Order());
        var first = loop.Windows.Pending["open-1"];
        Assert.Equal(TestEngine.Start.AddSeconds(1201), first.CloseAt);
        Assert.Equal([("stars", 2.0), ("rewatch", 1.0)], first.Signals.OrderByDescending(s => s.Type).Select(s => (s.Type, s.Value)));
        Assert.Equal(3, loop.Windows.NextRewardSequence);
        Assert.Equal(2, loop.Windows.DueQueue.Count);
        Assert.Equal("music", loop.Windows.Pending["open-2"].Restore().Actions[2].Features["item"]["topic"].Text);

        // The restored windows close as the live ones would.
        var batch = new StoreBatch();
        var closed = new List<ClosedReward>();
        Joiner.CloseDue(loop, TestEngine.Start.AddSeconds(1201), batch, closed);
        var reward = Assert.Single(closed).Reward;
        Assert.Equal(("open-1", 3L, 1.0), (reward.DecisionId, reward.Sequence, reward.Reward));
    }
}

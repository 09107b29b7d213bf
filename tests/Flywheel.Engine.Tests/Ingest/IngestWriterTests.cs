using Flywheel.Core;

namespace Flywheel.Engine.Tests.Ingest;

public sealed class IngestWriterTests
{
    private const string Loop = "home-feed";
    private static readonly CancellationToken None = CancellationToken.None;

    public static TheoryData<string, SignalInput?[], string> InvalidBatches => new()
    {
        { "empty batch", [], "signals" },
        { "unknown type", [new() { DecisionId = "d1", Type = "watch_complete" }, new() { DecisionId = "d1", Type = "like" }], "signals[1].type" },
        { "type too long", [new() { DecisionId = "d1", Type = new string('x', 257) }], "signals[0].type" },
        { "neither decision nor user", [new() { Type = "rewatch" }], "signals[0].decisionId" },
        { "value not finite", [new() { DecisionId = "d1", Type = "stars", Value = double.NaN }], "signals[0].value" },
        { "null signal", [new() { DecisionId = "d1", Type = "rewatch" }, null], "signals[1]" },
        { "empty signal id", [new() { DecisionId = "d1", Type = "rewatch", SignalId = "" }], "signals[0].signalId" },
    };

    [Theory]
    [MemberData(nameof(InvalidBatches))]
    public async Task RecordSignalsAsync_InvalidBatch_NamesTheFieldAndStoresNone(string name, SignalInput?[] batch, string field)
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());

        var ex = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.Parts.Ingest.RecordSignalsAsync(loop, batch!, None).AsTask());

        Assert.True(field == ex.Field, $"{name}: field '{ex.Field}', expected '{field}'");
        // The batch is refused whole: not even its valid signals are stored.
        await rig.Parts.Ingest.FlushAsync(None);
        Assert.Equal(0, (await rig.Store.CountAsync(Loop)).Signals);
    }

    [Fact]
    public async Task RecordSignalsAsync_MoreThanTheLimit_IsTooLarge()
    {
        await using var rig = await ComponentRig.OpenAsync(o => o.Limits.MaxSignalsPerBatch = 2);
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        SignalInput Signal() => new() { UserId = "u-1", Type = "return_visit" };

        var ex = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.Parts.Ingest.RecordSignalsAsync(loop, [Signal(), Signal(), Signal()], None).AsTask());

        Assert.Equal("signals", ex.Field);
        Assert.Equal(ValidationKind.TooLarge, ex.Kind);
        Assert.Equal(new SignalBatchResult(2, 0, 0, 0), await rig.Parts.Ingest.RecordSignalsAsync(loop, [Signal(), Signal()], None));
    }

    [Fact]
    public async Task RecordSignalsAsync_UnknownDecision_IsStoredAsOrphaned()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        rig.Time.Advance(TimeSpan.FromSeconds(7));
        var at = TestEngine.Start.AddSeconds(2);

        var result = await rig.Parts.Ingest.RecordSignalsAsync(loop, [new SignalInput { DecisionId = "never-made", Type = "stars", Value = 3, At = at }], None);

        Assert.Equal(new SignalBatchResult(Accepted: 1, Duplicates: 0, Orphaned: 1, Late: 0), result);
        var stored = Assert.Single(await rig.Store.GetSignalsAsync(Loop, "never-made"));
        Assert.True(stored.Orphaned);
        Assert.False(stored.Late);
        Assert.Equal(3, stored.Value);
        Assert.Equal(at, stored.At);
        Assert.Equal(rig.Time.GetUtcNow(), stored.ReceivedAt);
        Assert.Matches("^[0-9a-f]{32}$", stored.SignalId);
    }

    [Fact]
    public async Task RecordSignalsAsync_DuplicateSignalIds_CountOnceInTheReward()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop(max: 2));
        var d = await rig.Parts.Decider.DecideAsync(loop, TestEngine.Request(), None);
        SignalInput Signal(string id, string type) => new() { SignalId = id, DecisionId = d.DecisionId, Type = type };

        var first = await rig.Parts.Ingest.RecordSignalsAsync(loop, [Signal("s1", "watch_complete"), Signal("s1", "watch_complete"), Signal("s2", "rewatch")], None);
        // A retry is found in the store, not only within its own batch.
        var retry = await rig.Parts.Ingest.RecordSignalsAsync(loop, [Signal("s2", "rewatch")], None);
        rig.Time.Advance(TimeSpan.FromSeconds(601));
        await rig.Parts.Ingest.FlushAsync(None);

        Assert.Equal(new SignalBatchResult(2, 1, 0, 0), first);
        Assert.Equal(new SignalBatchResult(0, 1, 0, 0), retry);
        Assert.Equal(2, (await rig.Store.GetSignalsAsync(Loop, d.DecisionId)).Count);
        var reward = await rig.Store.GetRewardAsync(Loop, d.DecisionId);
        Assert.Equal(1.5, reward!.Reward, 12);
        Assert.Equal(2, reward.SignalCount);
    }

    [Fact]
    public async Task RecordSignalsAsync_AfterTheWindowClosed_IsLateAndLeavesTheReward()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var d = await rig.Parts.Decider.DecideAsync(loop, TestEngine.Request(), None);
        rig.Time.Advance(TimeSpan.FromSeconds(601));
        await rig.Parts.Ingest.FlushAsync(None);

        var result = await rig.Parts.Ingest.RecordSignalsAsync(loop, [new SignalInput { DecisionId = d.DecisionId, Type = "thumbs_up" }], None);

        Assert.Equal(new SignalBatchResult(1, 0, 0, 1), result);
        Assert.True(Assert.Single(await rig.Store.GetSignalsAsync(Loop, d.DecisionId)).Late);
        Assert.Equal(0, (await rig.Store.GetRewardAsync(Loop, d.DecisionId))!.Reward);
    }

    [Fact]
    public async Task RecordSignalsAsync_ClosingSignal_ClosesTheWindowAtOnce()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var d = await rig.Parts.Decider.DecideAsync(loop, TestEngine.Request(), None);
        rig.Time.Advance(TimeSpan.FromSeconds(5));

        await rig.Parts.Ingest.RecordSignalsAsync(loop, [new SignalInput { DecisionId = d.DecisionId, Type = "skip" }], None);

        // Committed with the signal, before any flush or timer.
        var reward = await rig.Store.GetRewardAsync(Loop, d.DecisionId);
        Assert.NotNull(reward);
        Assert.Equal(WindowClose.Signal, reward.ClosedBy);
        Assert.Equal(rig.Time.GetUtcNow(), reward.ClosedAt);
        Assert.Equal(-0.5, reward.Reward, 12);
        Assert.Empty(loop.Windows.Pending);
    }

    [Fact]
    public async Task JoinTimer_WindowDue_ClosesByTimeoutAndTheRewardReachesTheStore()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var d = await rig.Parts.Decider.DecideAsync(loop, TestEngine.Request(), None);
        rig.Time.Advance(TimeSpan.FromSeconds(10));
        await rig.Parts.Ingest.RecordSignalsAsync(loop, [new SignalInput { DecisionId = d.DecisionId, Type = "watch_complete" }], None);

        rig.Time.Advance(TimeSpan.FromSeconds(589));
        await rig.Parts.Ingest.FlushAsync(None);
        Assert.Null(await rig.Store.GetRewardAsync(Loop, d.DecisionId));

        rig.Time.Advance(TimeSpan.FromSeconds(1) + rig.Options.JoinInterval);
        await rig.Parts.Ingest.FlushAsync(None);

        var reward = await rig.Store.GetRewardAsync(Loop, d.DecisionId);
        Assert.NotNull(reward);
        Assert.Equal(WindowClose.Timeout, reward.ClosedBy);
        // Closed as of the window's end, not as of when the writer noticed.
        Assert.Equal(TestEngine.Start.AddSeconds(600), reward.ClosedAt);
        Assert.Equal(1.0, reward.Reward, 12);
        Assert.Equal(1, reward.Sequence);
        Assert.Empty(loop.Windows.Pending);
        // The flush also waits for learning.
        Assert.Equal(1, loop.LearnedThrough);
    }

    [Fact]
    public async Task RewardWindowShortened_OpenWindows_CloseAtTheNewLengthAsAfterARestart()
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var d = await rig.Parts.Decider.DecideAsync(loop, TestEngine.Request(), None);

        // 600 s when it was made; the loop now says 60 s, which is what a restart would load it with.
        await rig.PutLoopAsync(loop.Config with { Reward = loop.Config.Reward with { WindowSeconds = 60 } });
        rig.Time.Advance(TimeSpan.FromSeconds(59));
        await rig.Parts.Ingest.FlushAsync(None);
        Assert.Null(await rig.Store.GetRewardAsync(Loop, d.DecisionId));
        rig.Time.Advance(TimeSpan.FromSeconds(1));
        await rig.Parts.Ingest.FlushAsync(None);

        var reward = await rig.Store.GetRewardAsync(Loop, d.DecisionId);
        Assert.NotNull(reward);
        Assert.Equal(WindowClose.Timeout, reward.ClosedBy);
        Assert.Equal(TestEngine.Start.AddSeconds(60), reward.ClosedAt);
    }

    [Fact]
    public async Task StopAsync_WriterNeverStarted_AnswersQueuedCallsInsteadOfLeavingThemWaiting()
    {
        await using var rig = await ComponentRig.OpenAsync(start: false);
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var decision = rig.Parts.Decider.DecideAsync(loop, TestEngine.Request(), None).AsTask();
        var signals = rig.Parts.Ingest.RecordSignalsAsync(loop, [new SignalInput { UserId = "u", Type = "return_visit" }], None).AsTask();

        await rig.Parts.Ingest.StopAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => decision);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => signals);
    }

    [Fact]
    public async Task EnqueueAsync_QueueFull_RefusesAsOverloadedButFlushWaits()
    {
        // Not started: nothing drains the queue until the test starts the workers.
        await using var rig = await ComponentRig.OpenAsync(o => o.MaxQueuedWrites = 2, start: false);
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var ingest = rig.Parts.Ingest;
        var first = UserSignal(loop, "a");
        var second = UserSignal(loop, "b");
        await ingest.EnqueueAsync(first, None);
        await ingest.EnqueueAsync(second, None);

        var ex = Assert.Throws<FlywheelOverloadedException>(() => { _ = ingest.EnqueueAsync(UserSignal(loop, "c"), None); });
        Assert.Equal(TimeSpan.FromSeconds(1), ex.RetryAfter);
        await Assert.ThrowsAsync<FlywheelOverloadedException>(() => rig.Parts.Decider.DecideAsync(loop, TestEngine.Request(), None).AsTask());
        var flush = ingest.FlushAsync(None).AsTask();
        Assert.False(flush.IsCompleted);

        StartWorkers(rig);
        try
        {
            await flush;
            Assert.Equal(new SignalBatchResult(1, 0, 0, 0), await first.Done.Task);
            Assert.Equal(new SignalBatchResult(1, 0, 0, 0), await second.Done.Task);
            Assert.Equal(2, (await rig.Store.CountAsync(Loop)).Signals);
            Assert.Equal(0, (await rig.Store.CountAsync(Loop)).Decisions);
        }
        finally
        {
            await StopWorkersAsync(rig);
        }
    }

    [Fact]
    public async Task FlushAsync_CompletesOnceEverythingQueuedBeforeItIsCommittedAndLearned()
    {
        await using var rig = await ComponentRig.OpenAsync(start: false);
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var decisions = Enumerable.Range(0, 3).Select(i => rig.Parts.Decider.DecideAsync(loop, TestEngine.Request($"d{i}"), None).AsTask()).ToList();
        var skip = rig.Parts.Ingest.RecordSignalsAsync(loop, [new SignalInput { DecisionId = "d1", Type = "skip" }], None).AsTask();

        var flush = rig.Parts.Ingest.FlushAsync(None).AsTask();
        Assert.False(flush.IsCompleted);
        Assert.All(decisions, d => Assert.False(d.IsCompleted));

        StartWorkers(rig);
        try
        {
            await flush;
            Assert.Equal(3, (await rig.Store.CountAsync(Loop)).Decisions);
            Assert.Equal(1, (await rig.Store.CountAsync(Loop)).Rewards);
            Assert.Equal(1, loop.LearnedThrough);
            Assert.Equal(new SignalBatchResult(1, 0, 0, 0), await skip);
            Assert.Equal(["d0", "d1", "d2"], (await Task.WhenAll(decisions)).Select(d => d.DecisionId));
        }
        finally
        {
            await StopWorkersAsync(rig);
        }
    }

    [Fact]
    public async Task StopAsync_CommitsWhatIsQueuedThenRefusesNewCalls()
    {
        await using var rig = await ComponentRig.OpenAsync(start: false);
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var decisions = Enumerable.Range(0, 5).Select(i => rig.Parts.Decider.DecideAsync(loop, TestEngine.Request($"q{i}"), None).AsTask()).ToList();
        StartWorkers(rig);

        await rig.Parts.Ingest.StopAsync();

        // Every queued call was answered (callers resume on the pool, so await rather than peek at IsCompleted).
        Assert.Equal(5, (await Task.WhenAll(decisions)).Length);
        Assert.Equal(5, (await rig.Store.CountAsync(Loop)).Decisions);
        Assert.Throws<ObjectDisposedException>(() => { _ = rig.Parts.Ingest.EnqueueAsync(new FlushWrite(), None); });
        await Assert.ThrowsAsync<ObjectDisposedException>(() => rig.Parts.Ingest.FlushAsync(None).AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => rig.Parts.Ingest.RecordSignalsAsync(loop, [new SignalInput { UserId = "u", Type = "return_visit" }], None).AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => rig.Parts.Decider.DecideAsync(loop, TestEngine.Request("late"), None).AsTask());
        await rig.Parts.Learner.StopAsync();
    }

    private static SignalsWrite UserSignal(LoopRuntime loop, string id)
        => new(loop, [new SignalInput { SignalId = id, UserId = "u-1", Type = "return_visit" }], [id]);

    /// <summary>Starts the workers of a rig opened with <c>start: false</c>; the test stops them (the rig would not).</summary>
    private static void StartWorkers(ComponentRig rig)
    {
        rig.Parts.Learner.Start();
        rig.Parts.Ingest.Start();
    }

    private static async Task StopWorkersAsync(ComponentRig rig)
    {
        await rig.Parts.Ingest.StopAsync();
        await rig.Parts.Learner.StopAsync();
    }
}

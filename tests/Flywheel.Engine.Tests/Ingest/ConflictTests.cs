using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests.Ingest;

/// <summary>A reused decision or signal id is a retry when the request is the same, and a 409 conflict otherwise.</summary>
public sealed class ConflictTests : IDisposable
{
    private const string Loop = "home-feed";
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static DecideRequest Parse(string json) => FlywheelJson.Read<DecideRequest>(System.Text.Encoding.UTF8.GetBytes(json));

    private const string First = """
        { "decisionId": "d1", "userId": "u-42",
          "context": { "user": { "country": "fr", "premium": true, "topics": ["cooking", "diy"] }, "time": { "hour": 20 } },
          "actions": [ { "id": "v1", "features": { "item": { "topic": "cooking", "length_s": 35 } } },
                       { "id": "v2", "features": { "item": { "topic": "diy", "length_s": 12.5 } } } ],
          "baselineActionId": "v1" }
        """;

    /// <summary>The same request written differently: property order, namespace and feature order, 20 as 20.0 and 2e1, array order, an empty namespace.</summary>
    private const string SameAsFirst = """
        { "baselineActionId": "v1",
          "actions": [ { "features": { "item": { "length_s": 3.5e1, "topic": "cooking" } }, "id": "v1" },
                       { "id": "v2", "features": { "item": { "length_s": 12.50, "topic": "diy" } } } ],
          "context": { "time": { "hour": 20.0 }, "empty": {}, "user": { "topics": ["diy", "cooking"], "premium": true, "country": "fr" } },
          "userId": "u-42", "decisionId": "d1" }
        """;

    public static TheoryData<string, string> OtherRequests => new()
    {
        { "userId", First.Replace("u-42", "u-7", StringComparison.Ordinal) },
        { "no userId", First.Replace("\"userId\": \"u-42\",", "", StringComparison.Ordinal) },
        { "context", First.Replace("\"fr\"", "\"de\"", StringComparison.Ordinal) },
        { "context number", First.Replace("\"hour\": 20", "\"hour\": 21", StringComparison.Ordinal) },
        { "context bool for number", First.Replace("\"premium\": true", "\"premium\": 1", StringComparison.Ordinal) },
        { "context array element", First.Replace("\"diy\"]", "\"music\"]", StringComparison.Ordinal) },
        { "actions[1].id", First.Replace("\"v2\"", "\"v9\"", StringComparison.Ordinal) },
        { "actions[0].features", First.Replace("35", "36", StringComparison.Ordinal) },
        { "actions", First.Replace("\"length_s\": 12.5 } } } ]", "\"length_s\": 12.5 } } }, { \"id\": \"v3\" } ]", StringComparison.Ordinal) },
        { "actions swapped", """
            { "decisionId": "d1", "userId": "u-42",
              "context": { "user": { "country": "fr", "premium": true, "topics": ["cooking", "diy"] }, "time": { "hour": 20 } },
              "actions": [ { "id": "v2", "features": { "item": { "topic": "diy", "length_s": 12.5 } } },
                           { "id": "v1", "features": { "item": { "topic": "cooking", "length_s": 35 } } } ],
              "baselineActionId": "v1" }
            """ },
        { "baselineActionId", First.Replace("\"baselineActionId\": \"v1\"", "\"baselineActionId\": \"v2\"", StringComparison.Ordinal) },
    };

    [Theory]
    [MemberData(nameof(OtherRequests))]
    public async Task DecideAsync_ReusedIdWithOtherRequest_Is409NamingDecisionIdAndStoresNothing(string name, string other)
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop());
        var first = await engine.DecideAsync(Loop, Parse(First));
        Assert.Equal("d1", Parse(other).DecisionId);

        var ex = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.DecideAsync(Loop, Parse(other)).AsTask());

        Assert.True(ex.Kind == ValidationKind.Conflict, $"{name}: {ex.Kind} {ex.Message}");
        Assert.Equal("decisionId", ex.Field);
        Assert.Contains("'d1'", ex.Message, StringComparison.Ordinal);
        await engine.FlushAsync();
        Assert.Equal(1, (await engine.GetCountsAsync(Loop)).Decisions);
        var stored = (await engine.GetDecisionAsync(Loop, "d1"))!.Decision;
        Assert.Equal("u-42", stored.UserId);
        Assert.Equal(["v1", "v2"], stored.Actions.Select(a => a.Id));
        Assert.Equal(first.ChosenActionId, stored.ChosenActionId);
        // The first request still gets its answer.
        Assert.Equivalent(first, await engine.DecideAsync(Loop, Parse(First)));
    }

    [Fact]
    public async Task DecideAsync_IdenticalRetry_GetsTheStoredAnswerWhileOpenAfterCloseAndAfterRestart()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        Decision first;
        await using (var engine = await TestEngine.OpenAsync(_dir.Path, time))
        {
            await engine.PutLoopAsync(TestEngine.FeedLoop());
            first = await engine.DecideAsync(Loop, Parse(First));
            await engine.DecideAsync(Loop, Parse(First.Replace("\"d1\"", "\"d2\"", StringComparison.Ordinal)));

            // Window open (the decision is in the writer's memory and in the store).
            Assert.Equivalent(first, await engine.DecideAsync(Loop, Parse(SameAsFirst)));
            time.Advance(TimeSpan.FromSeconds(601));
            await engine.FlushAsync();
            // Window closed: only the store has it.
            Assert.NotNull((await engine.GetDecisionAsync(Loop, "d1"))!.Reward);
            Assert.Equivalent(first, await engine.DecideAsync(Loop, Parse(SameAsFirst)));
            await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.DecideAsync(Loop, Parse(First.Replace("u-42", "u-1", StringComparison.Ordinal))).AsTask());
            time.Advance(TimeSpan.FromSeconds(1));
            await engine.DecideAsync(Loop, Parse(First.Replace("\"d1\"", "\"d3\"", StringComparison.Ordinal)));
        }

        await using (var engine = await TestEngine.OpenAsync(_dir.Path, time))
        {
            // After a restart: d1 closed (store), d3 open (reloaded into the writer's memory).
            Assert.Equivalent(first, await engine.DecideAsync(Loop, Parse(SameAsFirst)));
            var d3 = Parse(First.Replace("\"d1\"", "\"d3\"", StringComparison.Ordinal));
            var again = await engine.DecideAsync(Loop, d3);
            Assert.Equal("d3", again.DecisionId);
            var ex = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.DecideAsync(Loop, d3 with { UserId = "u-1" }).AsTask());
            Assert.Equal(ValidationKind.Conflict, ex.Kind);
            Assert.Contains("userId", ex.Message, StringComparison.Ordinal);
            ex = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.DecideAsync(Loop, Parse(First) with { BaselineActionId = null }).AsTask());
            Assert.Equal(ValidationKind.Conflict, ex.Kind);
            Assert.Equal(3, (await engine.GetCountsAsync(Loop)).Decisions);
        }
    }

    [Fact]
    public async Task DecideAsync_SameIdInOneGroupCommit_FirstIsStoredRetryAnsweredOtherConflicts()
    {
        await using var rig = await ComponentRig.OpenAsync(start: false);
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        // Queued before the writer starts, so the three calls share one group commit.
        var first = rig.Parts.Decider.DecideAsync(loop, Parse(First), None).AsTask();
        var other = rig.Parts.Decider.DecideAsync(loop, Parse(First.Replace("u-42", "u-7", StringComparison.Ordinal)), None).AsTask();
        var retry = rig.Parts.Decider.DecideAsync(loop, Parse(SameAsFirst), None).AsTask();
        Assert.Equal(3, rig.Parts.Ingest.QueueDepth);
        rig.Parts.Learner.Start();
        rig.Parts.Ingest.Start();
        try
        {
            var answer = await first;
            var ex = await Assert.ThrowsAsync<FlywheelValidationException>(() => other);
            Assert.Equal(ValidationKind.Conflict, ex.Kind);
            Assert.Equal("decisionId", ex.Field);
            Assert.Equivalent(answer, await retry);
            await rig.Parts.Ingest.FlushAsync(None);
            Assert.Equal(1, (await rig.Store.CountAsync(Loop)).Decisions);
            Assert.Equal("u-42", (await rig.Store.GetDecisionAsync(Loop, "d1"))!.UserId);
        }
        finally
        {
            await rig.Parts.StopAsync();
        }
    }

    [Fact]
    public async Task DecideAsync_ConcurrentSameIdDifferentBodies_OneBodyWinsEveryOtherCallConflicts()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop());
        var a = Parse(First);
        var b = Parse(First.Replace("u-42", "u-7", StringComparison.Ordinal));
        var calls = Enumerable.Range(0, 40).Select(i => (Body: i % 2 == 0 ? a : b, Task: Task.Run(() => engine.DecideAsync(Loop, i % 2 == 0 ? a : b).AsTask()))).ToArray();
        try
        {
            await Task.WhenAll(calls.Select(c => c.Task));
        }
        catch (FlywheelValidationException)
        {
            // Looked at per call below.
        }

        await engine.FlushAsync();
        var stored = (await engine.GetDecisionAsync(Loop, "d1"))!.Decision;
        var winner = stored.UserId == "u-42" ? a : b;
        Assert.Equal(1, (await engine.GetCountsAsync(Loop)).Decisions);
        foreach (var (body, task) in calls)
        {
            if (ReferenceEquals(body, winner))
            {
                Assert.Equal(stored.ChosenActionId, (await task).ChosenActionId);
            }
            else
            {
                var ex = await Assert.ThrowsAsync<FlywheelValidationException>(() => task);
                Assert.Equal(ValidationKind.Conflict, ex.Kind);
                Assert.Equal("decisionId", ex.Field);
            }
        }
    }

    private static SignalInput Signal(string id, string type = "watch_complete", string? decisionId = "d1", double? value = null, DateTimeOffset? at = null, string? userId = null)
        => new() { SignalId = id, DecisionId = decisionId, Type = type, Value = value, At = at, UserId = userId };

    public static TheoryData<string, SignalInput> OtherSignals => new()
    {
        { "type", Signal("s1", type: "thumbs_up", at: TestEngine.Start) },
        { "value", Signal("s1", value: 2, at: TestEngine.Start) },
        { "decisionId", Signal("s1", decisionId: "d2", at: TestEngine.Start) },
        { "userId", Signal("s1", userId: "u-9", at: TestEngine.Start) },
        { "at", Signal("s1", at: TestEngine.Start.AddSeconds(1)) },
    };

    [Theory]
    [MemberData(nameof(OtherSignals))]
    public async Task RecordSignalsAsync_ReusedIdWithOtherSignal_Is409NamingTheItemAndStoresNothingOfTheBatch(string name, SignalInput other)
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop());
        await engine.DecideAsync(Loop, TestEngine.Request("d1"));
        await engine.DecideAsync(Loop, TestEngine.Request("d2"));
        Assert.Equal(new SignalBatchResult(1, 0, 0, 0), await engine.RecordSignalsAsync(Loop, [Signal("s1", at: TestEngine.Start)]));

        // Alone, and as the third item of a batch whose other items are new.
        var alone = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.RecordSignalsAsync(Loop, [other]).AsTask());
        var inBatch = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.RecordSignalsAsync(Loop, [Signal("s2"), Signal("s3", "thumbs_up"), other]).AsTask());

        Assert.True(alone.Kind == ValidationKind.Conflict, $"{name}: {alone.Kind} {alone.Message}");
        Assert.Equal("signals[0].signalId", alone.Field);
        Assert.Contains(name, alone.Message, StringComparison.Ordinal);
        Assert.Equal(ValidationKind.Conflict, inBatch.Kind);
        Assert.Equal("signals[2].signalId", inBatch.Field);
        await engine.FlushAsync();
        Assert.Equal(1, (await engine.GetCountsAsync(Loop)).Signals);
        var stored = Assert.Single((await engine.GetDecisionAsync(Loop, "d1"))!.Signals);
        Assert.Equal(("s1", "watch_complete", 1.0), (stored.SignalId, stored.Type, stored.Value));
        // The batch's new signals can be sent again without the conflicting one.
        Assert.Equal(new SignalBatchResult(2, 0, 0, 0), await engine.RecordSignalsAsync(Loop, [Signal("s2"), Signal("s3", "thumbs_up")]));
    }

    [Fact]
    public async Task RecordSignalsAsync_SameIdTwiceInOneBatchWithOtherBodies_IsRefusedWhole()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop());
        await engine.DecideAsync(Loop, TestEngine.Request("d1"));

        var ex = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.RecordSignalsAsync(Loop, [Signal("a"), Signal("s9"), Signal("s9", "thumbs_down")]).AsTask());

        Assert.Equal(ValidationKind.Conflict, ex.Kind);
        Assert.Equal("signals[2].signalId", ex.Field);
        await engine.FlushAsync();
        Assert.Equal(0, (await engine.GetCountsAsync(Loop)).Signals);
    }

    [Fact]
    public async Task RecordSignalsAsync_IdenticalRetries_AreDuplicatesBeforeAndAfterCloseAndRestart()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        var at = TestEngine.Start.AddSeconds(-5);
        SignalInput[] batch = [Signal("s1", at: at), Signal("s2", "stars", value: 3), new() { SignalId = "s3", UserId = "u-42", Type = "return_visit", Value = 1 }];
        // The same signals as a retry may send them: the instant in another offset, the default value left out, no at.
        SignalInput[] retry = [Signal("s1", at: at.ToOffset(TimeSpan.FromHours(2))), Signal("s2", "stars", value: 3.0), new() { SignalId = "s3", UserId = "u-42", Type = "return_visit" }];
        await using (var engine = await TestEngine.OpenAsync(_dir.Path, time))
        {
            await engine.PutLoopAsync(TestEngine.FeedLoop(max: 2));
            await engine.DecideAsync(Loop, TestEngine.Request("d1"));
            Assert.Equal(new SignalBatchResult(3, 0, 0, 0), await engine.RecordSignalsAsync(Loop, batch));
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(new SignalBatchResult(0, 3, 0, 0), await engine.RecordSignalsAsync(Loop, retry));
            Assert.Equal(new SignalBatchResult(0, 2, 0, 0), await engine.RecordSignalsAsync(Loop, [Signal("s1"), Signal("s1")]));
            time.Advance(TimeSpan.FromMinutes(11));
            await engine.FlushAsync();
            Assert.Equal(new SignalBatchResult(0, 3, 0, 0), await engine.RecordSignalsAsync(Loop, retry));
        }
        await using (var engine = await TestEngine.OpenAsync(_dir.Path, time))
        {
            Assert.Equal(new SignalBatchResult(0, 3, 0, 0), await engine.RecordSignalsAsync(Loop, batch));
            var ex = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.RecordSignalsAsync(Loop, [Signal("s2", "stars", value: 4)]).AsTask());
            Assert.Equal(ValidationKind.Conflict, ex.Kind);
            Assert.Equal(3, (await engine.GetCountsAsync(Loop)).Signals);
            Assert.Equal(1.0 + (0.25 * 3), (await engine.GetDecisionAsync(Loop, "d1"))!.Reward!.Reward, 12);
        }
    }

    [Fact]
    public async Task RecordSignalsAsync_SameIdInOneGroupCommit_FirstBatchStoredOtherConflictsRetryDuplicate()
    {
        await using var rig = await ComponentRig.OpenAsync(start: false);
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var first = rig.Parts.Ingest.RecordSignalsAsync(loop, [Signal("s1", decisionId: "nope")], None).AsTask();
        var other = rig.Parts.Ingest.RecordSignalsAsync(loop, [Signal("s0", decisionId: "nope"), Signal("s1", "skip", decisionId: "nope")], None).AsTask();
        var retry = rig.Parts.Ingest.RecordSignalsAsync(loop, [Signal("s1", decisionId: "nope")], None).AsTask();
        rig.Parts.Learner.Start();
        rig.Parts.Ingest.Start();
        try
        {
            Assert.Equal(new SignalBatchResult(1, 0, 1, 0), await first);
            var ex = await Assert.ThrowsAsync<FlywheelValidationException>(() => other);
            Assert.Equal(ValidationKind.Conflict, ex.Kind);
            Assert.Equal("signals[1].signalId", ex.Field);
            Assert.Equal(new SignalBatchResult(0, 1, 0, 0), await retry);
            await rig.Parts.Ingest.FlushAsync(None);
            Assert.Equal(1, (await rig.Store.CountAsync(Loop)).Signals);
        }
        finally
        {
            await rig.Parts.StopAsync();
        }
    }
}

using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests;

public sealed class MalformedCallTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static DecideRequest Valid => TestEngine.Request(decisionId: null);

    public static TheoryData<string, Func<DecideRequest>, string> BadDecisions => new()
    {
        { "no actions", () => Valid with { Actions = [] }, "actions" },
        { "null actions", () => Valid with { Actions = null! }, "actions" },
        { "too many actions", () => Valid with { Actions = Enumerable.Range(0, 1001).Select(i => new ActionCandidate($"a{i}")).ToArray() }, "actions" },
        { "empty action id", () => Valid with { Actions = [new ActionCandidate("")] }, "actions[0].id" },
        { "null action id", () => Valid with { Actions = [new ActionCandidate("a"), new ActionCandidate(null!)] }, "actions[1].id" },
        { "duplicate action ids", () => Valid with { Actions = [new ActionCandidate("a"), new ActionCandidate("b"), new ActionCandidate("a")] }, "actions[2].id" },
        { "over-long action id", () => Valid with { Actions = [new ActionCandidate(new string('a', 300))] }, "actions[0].id" },
        { "NaN feature", () => Valid with { Context = new Features { ["user"] = { ["age"] = double.NaN } } }, "context.user.age" },
        { "infinite action feature", () => Valid with { Actions = [new ActionCandidate("a", new Features { ["item"] = { ["len"] = double.PositiveInfinity } })] }, "actions[0].features.item.len" },
        { "over-long string feature", () => Valid with { Context = new Features { ["user"] = { ["bio"] = new string('x', 257) } } }, "context.user.bio" },
        { "too many features in a namespace", () => Valid with { Context = ManyFeatures(1025) }, "context.user" },
        { "bad namespace name", () => Valid with { Context = new Features { ["@action"] = { ["id"] = "x" } } }, "context.@action" },
        { "null context", () => Valid with { Context = null! }, "context" },
        { "empty decision id", () => Valid with { DecisionId = "" }, "decisionId" },
        { "empty user id", () => Valid with { UserId = "" }, "userId" },
        { "baseline not among the actions", () => Valid with { BaselineActionId = "zzz" }, "baselineActionId" },
    };

    public static TheoryData<string, SignalInput[], string> BadSignals => new()
    {
        { "empty batch", [], "signals" },
        { "unknown signal type", [new SignalInput { DecisionId = "d", Type = "purchase" }], "signals[0].type" },
        { "empty type", [new SignalInput { DecisionId = "d", Type = "" }], "signals[0].type" },
        { "neither decision nor user", [new SignalInput { Type = "watch_complete" }], "signals[0].decisionId" },
        { "NaN value", [new SignalInput { DecisionId = "d", Type = "stars", Value = double.NaN }], "signals[0].value" },
        { "infinite value", [new SignalInput { DecisionId = "d", Type = "stars", Value = double.NegativeInfinity }], "signals[0].value" },
        { "empty signal id", [new SignalInput { DecisionId = "d", Type = "stars", SignalId = "" }], "signals[0].signalId" },
        { "bad second signal", [new SignalInput { DecisionId = "d", Type = "stars" }, new SignalInput { DecisionId = "d", Type = "nope" }], "signals[1].type" },
        { "over-long decision id", [new SignalInput { DecisionId = new string('d', 257), Type = "stars" }], "signals[0].decisionId" },
        { "null signal", [null!], "signals[0]" },
    };

    private static Features ManyFeatures(int n)
    {
        var f = new Features();
        for (var i = 0; i < n; i++)
        {
            f["user"][$"f{i}"] = i + 1;
        }
        return f;
    }

    [Theory]
    [MemberData(nameof(BadDecisions))]
    public async Task Decide_MalformedRequest_NamesTheFieldAndLosesNothing(string name, Func<DecideRequest> request, string field)
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop());
        var committed = await engine.DecideAsync("home-feed", TestEngine.Request("kept"));

        var ex = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await engine.DecideAsync("home-feed", request()));
        Assert.True(field == ex.Field, $"{name}: field '{ex.Field}' ({ex.Message})");
        Assert.False(string.IsNullOrWhiteSpace(ex.Problem));

        Assert.Equal(1, (await engine.GetCountsAsync("home-feed")).Decisions);
        Assert.NotNull(await engine.GetDecisionAsync("home-feed", committed.DecisionId));
    }

    [Theory]
    [MemberData(nameof(BadSignals))]
    public async Task RecordSignals_MalformedBatch_NamesTheFieldAndStoresNothingOfIt(string name, SignalInput[] signals, string field)
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop());
        var d = await engine.DecideAsync("home-feed", TestEngine.Request("d"));
        await engine.RecordSignalsAsync("home-feed", [new SignalInput { DecisionId = d.DecisionId, Type = "watch_complete" }]);

        var ex = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await engine.RecordSignalsAsync("home-feed", signals));
        Assert.True(field == ex.Field, $"{name}: field '{ex.Field}' ({ex.Message})");

        var counts = await engine.GetCountsAsync("home-feed");
        Assert.Equal(1, counts.Signals);
    }

    [Fact]
    public async Task Calls_UnknownLoop_AreNotFound()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        var decide = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await engine.DecideAsync("nope", Valid));
        Assert.Equal(ValidationKind.NotFound, decide.Kind);
        Assert.Contains("nope", decide.Message);
        var signals = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await engine.RecordSignalsAsync("nope", [new SignalInput { UserId = "u", Type = "x" }]));
        Assert.Equal(ValidationKind.NotFound, signals.Kind);
    }

    [Fact]
    public async Task PutLoop_InvalidConfig_IsRefusedAndTheOldOneKept()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop());
        var bad = TestEngine.FeedLoop() with { Reward = new RewardConfig { WindowSeconds = -5 } };
        var ex = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await engine.PutLoopAsync(bad));
        Assert.Equal("reward.windowSeconds", ex.Field);
        Assert.Equal(600, (await engine.GetLoopAsync("home-feed"))!.Reward.WindowSeconds);
    }
}

using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests.Rank;

public sealed class RankLoopTests : IDisposable
{
    private const string Loop = "search";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static LoopConfig SearchLoop(PositionBias? bias = null, double interventionRate = 0.2) => new()
    {
        Id = Loop,
        Kind = LoopKind.Rank,
        Rank = new RankConfig { Slots = 3, PositionBias = bias ?? PositionBias.Estimate, InterventionRate = interventionRate },
        Signals = new Dictionary<string, SignalTypeConfig>
        {
            ["click"] = new() { Kind = SignalKind.Implicit, Weight = 1 },
            ["bounce"] = new() { Kind = SignalKind.Implicit, Weight = -1 },
            ["dwell"] = new() { Kind = SignalKind.Implicit, Weight = 0.01 },
        },
        Reward = new RewardConfig { WindowSeconds = 60, Min = -1, Max = 2 },
    };

    private static DecideRequest Query(string id, string intent = "shoes") => new()
    {
        DecisionId = id,
        Context = new Features { ["query"] = { ["intent"] = intent } },
        Actions = [.. Enumerable.Range(0, 5).Select(i => new ActionCandidate($"doc{i}", new Features { ["doc"] = { ["topic"] = $"t{i % 2}" } }))],
    };

    private static SignalInput Signal(string decision, string? action, string type, double? value = null)
        => new() { DecisionId = decision, ActionId = action, Type = type, Value = value };

    [Fact]
    public async Task Decide_RankLoop_ServesTheSlotsInOrderWithEachSlotsProbability()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(SearchLoop(PositionBias.None, interventionRate: 0));

        var decision = await engine.DecideAsync(Loop, Query("q1"));

        Assert.Equal([1, 2, 3], decision.Ranking.Select(r => r.Slot));
        Assert.Equal(3, decision.Ranking.Select(r => r.ActionId).Distinct().Count());
        Assert.Equal(decision.Ranking[0].ActionId, decision.ChosenActionId);
        Assert.All(decision.Ranking, r => Assert.InRange(r.Probability, 1e-9, 1));
        // An untrained model scores every document alike and nothing is shuffled: whatever is served, slot 1 had 5 ways, slot 2 four, slot 3 three.
        Assert.Equal([1 / 5.0, 1 / 4.0, 1 / 3.0], decision.Ranking.Select(r => r.Probability), (a, b) => Math.Abs(a - b) < 1e-12);
        var audit = await engine.GetDecisionAsync(Loop, "q1");
        Assert.Equal(decision.Ranking, audit!.Decision.Ranking);
        Assert.Contains("\"slot\":1", FlywheelJson.Serialize(decision), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signals_OnRankDecisions_NameAServedActionOrAreRefusedWhole()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(SearchLoop());
        await engine.PutLoopAsync(TestEngine.FeedLoop());
        var decision = await engine.DecideAsync(Loop, Query("q1"));
        var unserved = Query("q1").Actions.Select(a => a.Id).First(id => decision.Ranking.All(r => r.ActionId != id));

        var missing = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.RecordSignalsAsync(Loop, [Signal("q1", decision.ChosenActionId, "click"), Signal("q1", null, "click")]).AsTask());
        var notServed = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.RecordSignalsAsync(Loop, [Signal("q1", decision.ChosenActionId, "click"), Signal("q1", unserved, "click")]).AsTask());
        var onChoose = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.RecordSignalsAsync("home-feed", [Signal("d1", "v1", "watch_complete")]).AsTask());
        var userLevel = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.RecordSignalsAsync(Loop, [new SignalInput { UserId = "u1", ActionId = "doc1", Type = "click" }]).AsTask());

        Assert.Equal("signals[1].actionId", missing.Field);
        Assert.Equal("signals[1].actionId", notServed.Field);
        Assert.Contains($"'{unserved}' was not served", notServed.Message, StringComparison.Ordinal);
        Assert.Equal(ValidationKind.Invalid, notServed.Kind);
        Assert.Equal("signals[0].actionId", onChoose.Field);
        Assert.Equal("signals[0].actionId", userLevel.Field);
        Assert.Equal(0, (await engine.GetCountsAsync(Loop)).Signals);
    }

    [Fact]
    public async Task Signals_AfterTheWindowClosed_AreCheckedAgainstTheStoredRanking()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(SearchLoop() with { Signals = new Dictionary<string, SignalTypeConfig>(SearchLoop().Signals) { ["purchase"] = new() { Weight = 2, ClosesWindow = true } } });
        var decision = await engine.DecideAsync(Loop, Query("q1"));
        var served = decision.ChosenActionId;
        var unserved = Query("q1").Actions.Select(a => a.Id).First(id => decision.Ranking.All(r => r.ActionId != id));

        // In one batch: the purchase closes the window, then a click names an action the ranking did not serve.
        var sameBatch = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.RecordSignalsAsync(Loop, [Signal("q1", served, "purchase"), Signal("q1", unserved, "click")]).AsTask());
        await engine.RecordSignalsAsync(Loop, [Signal("q1", served, "purchase")]);
        time.Advance(TimeSpan.FromSeconds(61));
        await engine.FlushAsync();
        var late = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.RecordSignalsAsync(Loop, [Signal("q1", unserved, "click")]).AsTask());
        var accepted = await engine.RecordSignalsAsync(Loop, [Signal("q1", served, "click")]);

        Assert.Equal("signals[1].actionId", sameBatch.Field);
        Assert.Equal("signals[0].actionId", late.Field);
        Assert.Equal(1, accepted.Late);
    }

    [Fact]
    public async Task Rewards_OfARankDecision_OnePerServedSlotByTheRewardRule()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(SearchLoop());
        var decision = await engine.DecideAsync(Loop, Query("q1"));
        var (first, second, third) = (decision.Ranking[0].ActionId, decision.Ranking[1].ActionId, decision.Ranking[2].ActionId);

        await engine.RecordSignalsAsync(Loop,
        [
            Signal("q1", second, "click"), Signal("q1", second, "dwell", 40),
            Signal("q1", first, "click"), Signal("q1", first, "bounce"),
        ]);
        time.Advance(TimeSpan.FromSeconds(61));
        await engine.FlushAsync();

        var audit = await engine.GetDecisionAsync(Loop, "q1");
        var slots = audit!.Reward!.Slots!;
        Assert.Equal([new SlotReward(1, first, 0, 2), new SlotReward(2, second, 1.4, 2), new SlotReward(3, third, 0, 0)], slots);
        Assert.Equal(1.4, audit.Reward.Reward, 12);
        Assert.Equal(4, audit.Reward.SignalCount);
        Assert.Equal([first, first, second, second], audit.Signals.Select(s => s.ActionId).Order());
        var json = FlywheelJson.Serialize(audit);
        Assert.Contains("\"slots\":[{\"slot\":1,", json, StringComparison.Ordinal);
        Assert.Contains($"\"actionId\":\"{second}\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PositionBias_FromShuffledDecisions_SurvivesARestart()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        PositionBiasReport before;
        await using (var engine = await TestEngine.OpenAsync(_dir.Path, time))
        {
            await engine.PutLoopAsync(SearchLoop(interventionRate: 0.5));
            for (var i = 0; i < 200; i++)
            {
                var d = await engine.DecideAsync(Loop, Query($"q{i}"));
                // Every user looks at slot 1; slot 2 every other time; slot 3 never.
                var signals = new List<SignalInput> { Signal(d.DecisionId, d.Ranking[0].ActionId, "click") };
                if (i % 2 == 0)
                {
                    signals.Add(Signal(d.DecisionId, d.Ranking[1].ActionId, "click"));
                }
                await engine.RecordSignalsAsync(Loop, signals);
                time.Advance(TimeSpan.FromSeconds(1));
            }
            time.Advance(TimeSpan.FromMinutes(10));
            await engine.FlushAsync();
            before = await engine.GetPositionBiasAsync(Loop);
        }
        Assert.InRange(before.Interventions, 70, 130);
        Assert.Equal(1, before.Slots[0].Examination);
        Assert.Equal(0.5, before.Slots[1].Examination, 1);
        Assert.Equal(0, before.Slots[2].Examination);
        Assert.True(before.Slots[1].Lower < 0.5 && before.Slots[1].Upper > 0.5);

        await using var reopened = await TestEngine.OpenAsync(_dir.Path, time);
        var after = await reopened.GetPositionBiasAsync(Loop);
        Assert.Equal(before.Interventions, after.Interventions);
        Assert.Equal(before.Slots.Select(s => s.Engaged), after.Slots.Select(s => s.Engaged));
        var health = await reopened.GetHealthAsync(Loop);
        Assert.Equal(after.Interventions, health.PositionBias!.Interventions);
    }

    [Fact]
    public async Task PositionBias_OfAChooseLoop_IsNotSupported()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop());

        var ex = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.GetPositionBiasAsync("home-feed").AsTask());

        Assert.Equal(ValidationKind.NotSupported, ex.Kind);
        Assert.Null((await engine.GetHealthAsync("home-feed")).PositionBias);
    }

    [Fact]
    public async Task PutLoop_ChangingTheKind_IsAConflict()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(SearchLoop());

        var ex = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.PutLoopAsync(SearchLoop() with { Kind = LoopKind.Choose, Rank = null }).AsTask());

        Assert.Equal("kind", ex.Field);
        Assert.Equal(ValidationKind.Conflict, ex.Kind);
    }
}
